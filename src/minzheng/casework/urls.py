from django.urls import path

from minzheng.casework import views, views_file

urlpatterns = [
    path("households/<int:household_id>/file/", views_file.household_file, name="household_file"),
    path(
        "households/<int:household_id>/file.pdf",
        views_file.household_file_pdf,
        name="household_file_pdf",
    ),
    *views.urlpatterns,
]

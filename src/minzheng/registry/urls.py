from django.urls import path

from minzheng.registry import views

urlpatterns = [
    path("households/", views.household_list, name="household_list"),
    path("households/import/", views.household_import, name="household_import"),
    path("households/import/template.xlsx", views.import_template, name="import_template"),
    path(
        "households/import/errors/<str:key>.xlsx",
        views.import_error_report,
        name="import_error_report",
    ),
    path("households/<int:household_id>/", views.household_detail, name="household_detail"),
    path("households/<int:household_id>/edit/", views.household_edit, name="household_edit"),
]

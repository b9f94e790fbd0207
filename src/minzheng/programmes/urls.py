from django.urls import path

from minzheng.programmes import views

urlpatterns = [
    path("programmes/", views.programme_list, name="programme_list"),
    path("programmes/runs/", views.run_list, name="run_list"),
    path("programmes/runs/<int:run_id>/", views.run_detail, name="run_detail"),
    path("programmes/what-if/", views.what_if, name="what_if"),
]

from django.urls import include, path

from minzheng.reports import views, views_reports

urlpatterns = [
    path("", include(views.urlpatterns)),
    path("", include(views_reports.urlpatterns)),
]

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from minzheng.config.api import api

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="home", permanent=False)),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/", include("minzheng.accounts.urls")),
    path("", include("minzheng.registry.urls")),
    path("", include("minzheng.programmes.urls")),
    path("", include("minzheng.applications.urls")),
    path("", include("minzheng.verification.urls")),
    path("", include("minzheng.targeting.urls")),
    path("benefits/", include("minzheng.benefits.urls")),
    path("", include("minzheng.casework.urls")),
    path("reports/", include("minzheng.reports.urls")),
    path("eldercare/", include("minzheng.eldercare.urls")),
]

from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "minzheng.applications"
    label = "applications"
    verbose_name = "一口式申请"
    default_auto_field = "django.db.models.BigAutoField"

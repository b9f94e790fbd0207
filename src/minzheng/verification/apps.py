from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "minzheng.verification"
    label = "verification"
    verbose_name = "经济状况核对"
    default_auto_field = "django.db.models.BigAutoField"

from django.apps import AppConfig


class EldercareConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "minzheng.eldercare"
    verbose_name = "居家养老服务"

from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "minzheng.casework"
    verbose_name = "一户一策与主动服务"

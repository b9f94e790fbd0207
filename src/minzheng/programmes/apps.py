from django.apps import AppConfig


class ProgrammesConfig(AppConfig):
    name = "minzheng.programmes"
    label = "programmes"
    verbose_name = "救助项目"
    default_auto_field = "django.db.models.BigAutoField"

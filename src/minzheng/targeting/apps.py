from django.apps import AppConfig


class TargetingConfig(AppConfig):
    name = "minzheng.targeting"
    label = "targeting"
    verbose_name = "贫困指数与排序"
    default_auto_field = "django.db.models.BigAutoField"

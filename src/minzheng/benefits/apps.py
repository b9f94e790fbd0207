from django.apps import AppConfig


class BenefitsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "minzheng.benefits"
    verbose_name = "救助资金发放"

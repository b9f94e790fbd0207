from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "minzheng.registry"
    label = "registry"
    verbose_name = "救助对象数据库"

from django.apps import AppConfig


class CcmConfig(AppConfig):
    name = "ccm"
    verbose_name = "ccm core"

from django.apps import AppConfig


class ChainConfig(AppConfig):
    name = "portal.chain"
    label = "chain"
    verbose_name = "Chain"

from django.apps import AppConfig


class ChainConfig(AppConfig):
    name = "core.chain"
    label = "chain"
    verbose_name = "Chain"

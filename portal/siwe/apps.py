from django.apps import AppConfig


class SiweConfig(AppConfig):
    name = "portal.siwe"
    label = "siwe"
    verbose_name = "Sign-In with Ethereum"

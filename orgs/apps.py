from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "orgs"
    label = "orgs"
    verbose_name = "Organisations"

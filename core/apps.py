from django.apps import AppConfig


class CoreConfig(AppConfig):
    """People's profiles and notifications, leases, and the shared pieces every app uses."""

    name = "core"
    verbose_name = "Core"

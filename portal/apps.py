from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self):
        from prometheus_client import REGISTRY

        from portal import checks  # noqa: F401  (system checks register on import)
        from portal.metrics import PortalCollector

        if not any(isinstance(c, PortalCollector) for c in list(REGISTRY._collector_to_names)):
            REGISTRY.register(PortalCollector())

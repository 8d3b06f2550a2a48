from django.apps import AppConfig


class LicensingConfig(AppConfig):
    name = "licensing"

    def ready(self):
        # Subscribes the licence issuer to LicensePurchased events (portal.chain.events).
        from licensing import services  # noqa: F401

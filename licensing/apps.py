from django.apps import AppConfig

from core.signals import profile_changed


class LicensingConfig(AppConfig):
    name = "licensing"

    def ready(self):
        from licensing import receivers

        profile_changed.connect(receivers.profile_changed, dispatch_uid="licensing.catalogue_names")

from django.apps import AppConfig


class LicensingConfig(AppConfig):
    name = "licensing"

    def ready(self):
        from core.signals import profile_changed
        from licensing import receivers

        profile_changed.connect(receivers.profile_changed, dispatch_uid="licensing.catalogue_names")

"""What licensing does when the kernel signals (connected in LicensingConfig.ready)."""

from licensing.services import catalogue_refresh
from works.models import Work


def profile_changed(sender, *, profile, **kwargs) -> None:
    """The catalogue shows creators' names: a creator's listed works follow a new display name."""
    for work in Work.objects.filter(owner=profile.user, catalogue__isnull=False).select_related(
        "owner__profile"
    ):
        catalogue_refresh(work=work)

from django.db import transaction

from core.models import Profile
from core.signals import profile_changed

ERR_DISPLAY_NAME_BLANK = "Display name cannot be only spaces."


def profile_update(*, user, display_name: str, email: str | None = None) -> Profile:
    """Save the display name (and e-mail, when given); `profile_changed` lets the apps that show
    the name follow (the catalogue), in the same transaction."""
    with transaction.atomic():
        if email is not None and email != user.email:
            user.email = email
            user.save(update_fields=["email"])
        profile, _ = Profile.objects.get_or_create(user=user)
        profile.display_name = display_name.strip()
        profile.full_clean()
        profile.save(update_fields=["display_name", "updated_at"])
        user.profile = profile
        profile_changed.send(sender=Profile, profile=profile)
    return profile

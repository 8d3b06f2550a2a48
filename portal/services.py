from django.db import transaction

from portal.models import Profile

ERR_DISPLAY_NAME_BLANK = "Display name cannot be only spaces."


def profile_update(*, user, display_name: str, email: str | None = None) -> Profile:
    """Save the display name (and e-mail, when given); the catalogue shows the name, so the
    user's listed works follow."""
    from licensing.services import catalogue_refresh
    from works.models import Work

    with transaction.atomic():
        if email is not None and email != user.email:
            user.email = email
            user.save(update_fields=["email"])
        profile, _ = Profile.objects.get_or_create(user=user)
        profile.display_name = display_name.strip()
        profile.full_clean()
        profile.save(update_fields=["display_name", "updated_at"])
        user.profile = profile
        for work in Work.objects.filter(owner=user, catalogue__isnull=False).select_related("owner__profile"):
            catalogue_refresh(work=work)
    return profile

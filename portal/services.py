from portal.models import Profile

ERR_DISPLAY_NAME_BLANK = "Display name cannot be only spaces."


def profile_update(*, user, display_name: str) -> Profile:
    profile, _ = Profile.objects.get_or_create(user=user)
    profile.display_name = display_name.strip()
    profile.full_clean()
    profile.save(update_fields=["display_name", "updated_at"])
    return profile

"""How a person is named on screen, in notifications and in e-mails: their display name, else
their wallet address (the username of a wallet account)."""

from django.core.exceptions import ObjectDoesNotExist


def user_label(user) -> str:
    if user is None:
        return ""
    try:
        name = user.profile.display_name
    except ObjectDoesNotExist:  # no profile row yet
        name = ""
    return name or user.get_username()

"""How a person is named on screen, in notifications and in e-mails: their display name, else
their wallet address (the username of a wallet account)."""

from django.core.exceptions import ObjectDoesNotExist


def short_address(address: str) -> str:
    """0x3C44…93BC: enough to recognise, short enough for a sentence."""
    if address.startswith("0x") and len(address) == 42:
        return f"{address[:6]}…{address[-4:]}"
    return address


def user_label(user, *, short: bool = False) -> str:
    """The display name, else the wallet address (`short`: abbreviated, for sentences)."""
    if user is None:
        return ""
    try:
        name = user.profile.display_name
    except ObjectDoesNotExist:  # no profile row yet
        name = ""
    if name:
        return name
    return short_address(user.get_username()) if short else user.get_username()

from django import template

from portal.money import format_eth, wei_to_eth
from portal.people import user_label

register = template.Library()


@register.filter
def eth(wei):
    """A price: 'Free' when zero, else the exact amount in ETH."""
    if wei in (None, ""):
        return ""
    return format_eth(int(wei), zero="Free")


@register.filter
def eth_amount(wei):
    """An amount of money (earnings, balances): '0 ETH' when zero."""
    if wei in (None, ""):
        return ""
    return format_eth(int(wei))


@register.filter
def eth_plain(wei):
    """The bare number, for CSV cells and inputs."""
    if wei in (None, ""):
        return ""
    return wei_to_eth(int(wei))


@register.filter
def use_names(mask):
    from licensing.uses import names_of

    return names_of(int(mask or 0))


@register.filter
def use_labels(mask):
    from licensing.uses import labels_of

    return labels_of(int(mask or 0))


ROLE_LABELS = {
    "creator": "Creator",
    "co_creator": "Co-creator",
    "upstream": "Upstream (a work this one derives from)",
    "upstream_co_creator": "Co-creator of an upstream work",
    "platform": "Platform fee",
    "unmatched": "Credited on chain (role unknown)",
}


@register.filter
def role_label(role):
    return ROLE_LABELS.get(role, role)


@register.filter
def bps_percent(bps):
    """Basis points as a percentage, exactly: 1250 -> '12.5 %'."""
    if bps in (None, ""):
        return ""
    whole, rest = divmod(int(bps), 100)
    return f"{whole}.{rest:02d}".rstrip("0").rstrip(".") + " %"


@register.filter
def get_item(mapping, key):
    """{{ mapping|get_item:key }}: a dict lookup in a template."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def unix_datetime(seconds):
    """Unix seconds -> an aware datetime, for the date filter."""
    from datetime import UTC, datetime

    try:
        return datetime.fromtimestamp(int(seconds), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


@register.filter
def person(user):
    """A person's display name, else their wallet address; '' for nobody."""
    return user_label(user)

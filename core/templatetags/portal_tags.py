from django import template
from django.conf import settings
from django.utils.html import format_html

from core.chain.stablecoin import format_units, units_text
from core.money import eth_short, fiat_estimate, wei_to_eth
from core.people import user_label

register = template.Library()


def money_html(wei, *, zero: str) -> str:
    """An amount as pages show it: rounded to six decimals, the exact amount in its title and
    what a copy takes (static/js/wallet.js), and an estimate in a configured currency when the
    operator set a rate (labelled as one; never used for money)."""
    wei = int(wei)
    if wei == 0:
        return zero
    exact = wei_to_eth(wei)
    short = eth_short(wei)
    html = format_html(
        '<span class="money" title="{} ETH exactly" data-exact="{}">{} ETH</span>', exact, exact, short
    )
    rate, currency = settings.FIAT_ESTIMATE_RATE, settings.FIAT_ESTIMATE_CURRENCY
    if rate:
        html += format_html(
            ' <span class="fiat" title="An estimate at {} {} per ETH; payments are always in ETH">'
            "(≈ {} {})</span>",
            rate,
            currency,
            fiat_estimate(wei, rate),
            currency,
        )
    return html


@register.filter
def eth(wei):
    """A price: 'Free' when zero, else the amount in ETH (rounded; exact on hover and copy)."""
    if wei in (None, ""):
        return ""
    return money_html(wei, zero="Free")


@register.filter
def eth_amount(wei):
    """An amount of money (earnings, balances): '0 ETH' when zero."""
    if wei in (None, ""):
        return ""
    return money_html(wei, zero="0 ETH")


@register.filter
def price_in(amount, currency):
    """A price in its currency: ETH as `eth` shows it; the stablecoin exact ('5 tUSDC')."""
    if amount in (None, ""):
        return ""
    if currency in (None, "", "ETH"):
        return eth(amount)
    return "Free" if int(amount) == 0 else f"{units_text(int(amount))} {currency}"


@register.filter
def amount_in(amount, currency):
    """An amount of money in its currency (earnings, totals): '0 ETH' / '0 tUSDC' when zero."""
    if amount in (None, ""):
        return ""
    if currency in (None, "", "ETH"):
        return eth_amount(amount)
    return f"{units_text(int(amount))} {currency}"


@register.filter
def token_amount(units):
    """An amount in the stablecoin, exact: '0.0475 tUSDC'."""
    if units in (None, ""):
        return ""
    return format_units(int(units))


@register.filter
def eth_plain(wei):
    """The bare number, for CSV cells and inputs."""
    if wei in (None, ""):
        return ""
    return wei_to_eth(int(wei))


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

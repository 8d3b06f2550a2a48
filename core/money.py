"""Amounts typed by people and shown to them <-> integer wei. Never through floats.

Parsing and formatting are plain string arithmetic on integers: no float and no Decimal
context (whose default 28 digits silently rounded 12345678901.123456789012345679 ETH).
"""

import re

WEI_PER_ETH = 10**18
ETH_DECIMALS = 18
MAX_WEI = 2**256 - 1
ERR_AMOUNT = "Enter an amount in ETH, like 0.01 (at most 18 decimal places)."
ERR_TOO_LARGE = "That amount is larger than any on-chain balance can be."
_AMOUNT = re.compile(r"^(?P<whole>\d*)(?:\.(?P<frac>\d*))?$")


def eth_to_wei(text) -> int:
    """'0.01' -> 10**16. Refuses negatives, exponents, more than 18 significant decimals."""
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise ValueError(ERR_AMOUNT)
    text = str(text).strip().replace("_", "")
    match = _AMOUNT.match(text)
    if not match or not (match["whole"] or match["frac"]):
        raise ValueError(ERR_AMOUNT)
    whole, frac = match["whole"] or "0", (match["frac"] or "").rstrip("0")
    if len(frac) > ETH_DECIMALS:
        raise ValueError(ERR_AMOUNT)
    if len(whole) > 80:
        raise ValueError(ERR_TOO_LARGE)
    wei = int(whole) * WEI_PER_ETH + int(frac.ljust(ETH_DECIMALS, "0"))
    if wei > MAX_WEI:
        raise ValueError(ERR_TOO_LARGE)
    return wei


ERR_TOKEN_AMOUNT = "Enter an amount in {symbol}, like 0.05 (at most {decimals} decimal places)."


def to_units(text, *, decimals: int, symbol: str) -> int:
    """'0.05' -> 50000 for a 6-decimal token: the same exact parsing as ETH's, in the token's
    smallest unit."""
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise ValueError(ERR_TOKEN_AMOUNT.format(symbol=symbol, decimals=decimals))
    match = _AMOUNT.match(str(text).strip().replace("_", ""))
    if not match or not (match["whole"] or match["frac"]):
        raise ValueError(ERR_TOKEN_AMOUNT.format(symbol=symbol, decimals=decimals))
    whole, frac = match["whole"] or "0", (match["frac"] or "").rstrip("0")
    if len(frac) > decimals:
        raise ValueError(ERR_TOKEN_AMOUNT.format(symbol=symbol, decimals=decimals))
    if len(whole) > 70:
        raise ValueError(ERR_TOO_LARGE)
    units = int(whole) * 10**decimals + int(frac.ljust(decimals, "0") or 0)
    if units > MAX_WEI:
        raise ValueError(ERR_TOO_LARGE)
    return units


def from_units(units: int, *, decimals: int) -> str:
    """50000 -> '0.05' for a 6-decimal token; exact for every integer."""
    units = int(units)
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10**decimals)
    if not frac:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:0{decimals}d}".rstrip("0")


def wei_to_eth(wei: int) -> str:
    """10**16 -> '0.01'; exact for every integer, negative ones too."""
    wei = int(wei)
    sign = "-" if wei < 0 else ""
    whole, frac = divmod(abs(wei), WEI_PER_ETH)
    if not frac:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:018d}".rstrip("0")


def format_eth(wei: int, *, zero: str = "0 ETH") -> str:
    """What a page, certificate or embedded XMP shows: '0.000000001 ETH'; `zero` for nothing."""
    if int(wei) == 0:
        return zero
    return f"{wei_to_eth(wei)} ETH"


SHORT_PLACES = 6


def eth_short(wei: int, *, places: int = SHORT_PLACES) -> str:
    """What a page shows: at most `places` decimals, rounded half up ('0.012346'); an amount
    too small to show is '< 0.000001' rather than a misleading 0. The exact amount goes beside
    it (title, copy); certificates, files and contracts always get the exact one."""
    wei = int(wei)
    sign = "-" if wei < 0 else ""
    unit = 10 ** (ETH_DECIMALS - places)
    rounded, rest = divmod(abs(wei), unit)
    if rest * 2 >= unit:
        rounded += 1
    if rounded == 0 and wei:
        return f"{'> -' if sign else '< '}0.{'0' * (places - 1)}1"
    whole, frac = divmod(rounded, 10**places)
    text = f"{whole}.{frac:0{places}d}".rstrip("0").rstrip(".")
    return f"{sign}{text}"


def fiat_estimate(wei: int, rate: str) -> str:
    """`wei` at `rate` (units of a currency per ETH, e.g. '2000.50'), to two decimals: for a
    label that says "estimate", never for a payment. Integer arithmetic throughout."""
    rate_micro = eth_to_wei(rate) // 10**12  # the rate in millionths
    wei = int(wei)
    scale = WEI_PER_ETH * 10**6
    cents = (abs(wei) * rate_micro * 100 + scale // 2) // scale
    sign = "-" if wei < 0 and cents else ""
    whole, frac = divmod(cents, 100)
    return f"{sign}{whole:,}.{frac:02d}"

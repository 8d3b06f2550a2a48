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

"""ETH amounts typed by people <-> integer wei. Never through floats."""

from decimal import Decimal, InvalidOperation

WEI_PER_ETH = 10**18
ERR_AMOUNT = "Enter an amount in ETH, like 0.01 (at most 18 decimal places)."


def eth_to_wei(text: str) -> int:
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(ERR_AMOUNT)
    if not value.is_finite() or value < 0:
        raise ValueError(ERR_AMOUNT)
    wei = value * WEI_PER_ETH
    if wei != wei.to_integral_value():
        raise ValueError(ERR_AMOUNT)
    return int(wei)


def wei_to_eth(wei: int) -> str:
    whole, frac = divmod(int(wei), WEI_PER_ETH)
    if not frac:
        return str(whole)
    return f"{whole}.{frac:018d}".rstrip("0")

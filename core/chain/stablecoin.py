"""The dollar stablecoin (an ERC-20 with EIP-3009 and EIP-2612): where it is, the EIP-712 domain
it signs authorisations under, and amounts in its smallest unit (6 decimals for USDC and the
local test token). Settings: STABLECOIN_ADDRESS (empty on a development chain: the test token the
portal deployed), STABLECOIN_NAME and STABLECOIN_VERSION (its EIP-712 domain), STABLECOIN_SYMBOL,
STABLECOIN_DECIMALS."""

import re

from django.conf import settings
from web3 import Web3

from core.chain.contracts import STABLECOIN, contract, contract_address
from core.chain.eip712 import DOMAIN_FIELDS_WITH_CONTRACT
from core.money import format_eth, from_units, to_units

TRANSFER_WITH_AUTHORIZATION_TYPES = {
    "EIP712Domain": DOMAIN_FIELDS_WITH_CONTRACT,
    "TransferWithAuthorization": [
        {"name": "from", "type": "address"},
        {"name": "to", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "validAfter", "type": "uint256"},
        {"name": "validBefore", "type": "uint256"},
        {"name": "nonce", "type": "bytes32"},
    ],
}


# A buyer's EIP-2612 permit signature as a wallet returns it (r, s, v: 65 bytes in hex).
PERMIT_SIGNATURE = re.compile(r"0x[0-9a-fA-F]{130}")
ERR_PERMIT_MALFORMED = "The permit signature is not a 65-byte signature in hex."


def stablecoin_address(*, w3: Web3) -> str:
    return contract_address(w3=w3, name=STABLECOIN)


def stablecoin(*, w3: Web3):
    return contract(w3=w3, name=STABLECOIN)


def currency() -> str:
    """The ledger's and the pages' name for amounts in the stablecoin."""
    return settings.STABLECOIN_SYMBOL


def units_text(units: int) -> str:
    """50000 -> '0.05' (exact)."""
    return from_units(units, decimals=settings.STABLECOIN_DECIMALS)


def format_units(units: int) -> str:
    """50000 -> '0.05 tUSDC'."""
    return f"{units_text(units)} {settings.STABLECOIN_SYMBOL}"


def parse_units(text) -> int:
    """'0.05' -> 50000; a ValueError says what to type."""
    return to_units(text, decimals=settings.STABLECOIN_DECIMALS, symbol=settings.STABLECOIN_SYMBOL)


def money_text(amount: int, currency: str, *, zero: str = "") -> str:
    """An exact amount in its currency, for text (a certificate, a notification, a licence file):
    '0.01 ETH' or '5 tUSDC'; `zero` for nothing when given."""
    if int(amount) == 0 and zero:
        return zero
    if currency == "ETH":
        return format_eth(amount, zero="0 ETH")
    return f"{units_text(amount)} {currency}"


def is_stablecoin(currency: str) -> bool:
    return currency == settings.STABLECOIN_SYMBOL


PERMIT_TYPES = {
    "EIP712Domain": DOMAIN_FIELDS_WITH_CONTRACT,
    "Permit": [
        {"name": "owner", "type": "address"},
        {"name": "spender", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
}


def permit_typed_data(*, w3: Web3, owner: str, spender: str, value: int, deadline: int) -> dict:
    """The EIP-2612 permit a buyer signs so the market may take exactly `value` from them."""
    token = stablecoin(w3=w3)
    return {
        "types": PERMIT_TYPES,
        "primaryType": "Permit",
        "domain": {
            "name": settings.STABLECOIN_NAME,
            "version": settings.STABLECOIN_VERSION,
            "chainId": w3.eth.chain_id,
            "verifyingContract": token.address,
        },
        "message": {
            "owner": owner,
            "spender": spender,
            "value": int(value),
            "nonce": token.functions.nonces(owner).call(),
            "deadline": int(deadline),
        },
    }


def transfer_authorization_typed_data(
    *,
    chain_id: int,
    token: str,
    sender: str,
    to: str,
    value: int,
    valid_after: int,
    valid_before: int,
    nonce: str,
) -> dict:
    """The EIP-3009 TransferWithAuthorization a payer signs (what x402's exact scheme signs)."""
    return {
        "types": TRANSFER_WITH_AUTHORIZATION_TYPES,
        "primaryType": "TransferWithAuthorization",
        "domain": {
            "name": settings.STABLECOIN_NAME,
            "version": settings.STABLECOIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": token,
        },
        "message": {
            "from": sender,
            "to": to,
            "value": int(value),
            "validAfter": int(valid_after),
            "validBefore": int(valid_before),
            "nonce": nonce,
        },
    }


def approve_call(*, w3: Web3, spender: str, amount: int) -> tuple[str, str]:
    """(to, data) of the stablecoin's approve(spender, amount): what a buyer sends before a
    settlement paid in it (exactly its price)."""
    token = stablecoin(w3=w3)
    return token.address, token.encode_abi("approve", args=[spender, int(amount)])

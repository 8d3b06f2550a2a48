"""EIP-712 domain types shared by every payload the portal signs or asks a wallet to sign."""

DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
]
DOMAIN_FIELDS_WITH_CONTRACT = [*DOMAIN_FIELDS, {"name": "verifyingContract", "type": "address"}]

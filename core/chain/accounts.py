"""The kinds of account that sign for a wallet address (core/chain/signatures.py checks them)."""

EOA = "eoa"  # a key: ecrecover
CONTRACT = "erc1271"  # a deployed smart-contract account
COUNTERFACTUAL = "erc6492"  # a smart-contract account not deployed when it signed
KINDS = {
    EOA: "a wallet key (EOA)",
    CONTRACT: "a smart-contract account (ERC-1271)",
    COUNTERFACTUAL: "a smart-contract account not yet deployed (ERC-6492)",
}

"""Signatures from every kind of account: EOAs offline, ERC-1271 and ERC-6492 accounts on an
in-process EVM (eth-tester): the check is one eth_call, and a real node adds nothing here
(portal/siwe and works test the same accounts on anvil, end to end)."""

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from web3 import Web3

from core.chain.signatures import (
    CONTRACT,
    COUNTERFACTUAL,
    EOA,
    SignatureUnverifiable,
    signature_check,
)

TYPED = {
    "types": {
        "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}],
        "Note": [{"name": "text", "type": "string"}],
    },
    "primaryType": "Note",
    "domain": {"name": "Creator IP Portal", "chainId": 31337},
    "message": {"text": "mine"},
}


def _sign(account, message) -> str:
    return Web3.to_hex(account.sign_message(message).signature)


def test_an_eoa_signature_is_recovered_without_the_chain(settings):
    settings.CHAIN_RPC_URL = "http://127.0.0.1:9"  # nothing answers there
    owner = Account.create()
    message = encode_defunct(text="hello")
    check = signature_check(signer=owner.address, message=message, signature=_sign(owner, message))
    assert (check.valid, check.kind, check.block) == (True, EOA, None)
    other = Account.create()
    assert not signature_check(signer=owner.address, message=message, signature=_sign(other, message)).valid


def test_a_long_signature_cannot_be_checked_without_the_chain(settings):
    settings.CHAIN_RPC_URL = "http://127.0.0.1:9"
    with pytest.raises(SignatureUnverifiable):
        signature_check(
            signer=Account.create().address, message=encode_defunct(text="x"), signature="0x" + "ab" * 96
        )


@pytest.mark.parametrize("message", [encode_defunct(text="Sign in"), encode_typed_data(full_message=TYPED)])
def test_a_deployed_account_signs_through_its_owner(evm, evm_smart_accounts, message):
    owner = Account.create()
    account = evm_smart_accounts(owner)
    check = signature_check(
        signer=account.address, message=message, signature=_sign(owner, message), w3=evm.w3
    )
    assert (check.valid, check.kind) == (True, CONTRACT)
    assert check.block == evm.w3.eth.block_number
    stranger = Account.create()
    refused = signature_check(
        signer=account.address, message=message, signature=_sign(stranger, message), w3=evm.w3
    )
    assert (refused.valid, refused.kind) == (False, CONTRACT)


def test_an_account_not_yet_deployed_signs_with_erc6492(evm, evm_smart_accounts):
    owner = Account.create()
    account = evm_smart_accounts(owner, deployed=False, salt=7)
    assert evm.w3.eth.get_code(account.address) == b""
    message = encode_typed_data(full_message=TYPED)
    wrapped = account.wrap(_sign(owner, message))
    check = signature_check(signer=account.address, message=message, signature=wrapped, w3=evm.w3)
    assert (check.valid, check.kind) == (True, COUNTERFACTUAL)
    assert evm.w3.eth.get_code(account.address) == b"", "checking deploys nothing"
    forged = account.wrap(_sign(Account.create(), message))
    assert not signature_check(signer=account.address, message=message, signature=forged, w3=evm.w3).valid
    # The same wrapped signature names a different account: the factory deploys the owner's one,
    # which is not the address claimed.
    other = evm_smart_accounts(Account.create(), deployed=False, salt=7)
    assert not signature_check(signer=other.address, message=message, signature=wrapped, w3=evm.w3).valid


def test_a_wrapped_signature_is_checked_against_the_deployed_account(evm, evm_smart_accounts):
    owner = Account.create()
    predicted = evm_smart_accounts(owner, deployed=False, salt=3)
    message = encode_defunct(text="before and after")
    wrapped = predicted.wrap(_sign(owner, message))
    evm_smart_accounts(owner, deployed=True, salt=3)
    check = signature_check(signer=predicted.address, message=message, signature=wrapped, w3=evm.w3)
    assert (check.valid, check.kind) == (True, CONTRACT)


def test_an_eoa_with_a_wrong_signature_is_refused_on_chain_too(evm):
    owner, other = Account.create(), Account.create()
    message = encode_defunct(text="hello")
    check = signature_check(signer=owner.address, message=message, signature=_sign(other, message), w3=evm.w3)
    assert (check.valid, check.kind) == (False, EOA)
    assert not signature_check(signer=owner.address, message=message, signature="0xzz", w3=evm.w3).valid

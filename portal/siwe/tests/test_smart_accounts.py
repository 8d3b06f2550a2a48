"""Sign-In with Ethereum from smart-contract accounts (EIP-4361 asks for ERC-1271 and ERC-6492)."""

import pytest
from allauth.socialaccount.models import SocialAccount
from eth_account import Account

from core.chain.signatures import ERR_UNVERIFIABLE
from portal.siwe import services
from tests.fixtures.siwe import personal_sign, siwe_message

pytestmark = pytest.mark.anvil


def _sign_in(client, siwe, account, *, signer=None):
    message = siwe_message(address=account.address, nonce=siwe.nonce(client))
    return siwe.verify(client, message, account.wrap(personal_sign(signer or account.owner, message)))


def test_a_deployed_account_signs_in_as_itself(client, siwe, smart_accounts):
    account = smart_accounts(Account.create())
    response = _sign_in(client, siwe, account)
    assert response.status_code == 200, response.content
    assert response.json() == {"address": account.address}
    assert SocialAccount.objects.get(provider="ethereum").uid == account.address
    assert "_auth_user_id" in client.session


def test_an_account_not_yet_deployed_signs_in_with_erc6492(client, siwe, smart_accounts, chain):
    account = smart_accounts(Account.create(), deployed=False, salt=11)
    response = _sign_in(client, siwe, account)
    assert response.status_code == 200, response.content
    assert response.json() == {"address": account.address}
    assert chain.eth.get_code(account.address) == b"", "signing in deploys nothing"


@pytest.mark.parametrize("deployed", [True, False])
def test_another_owner_cannot_sign_in_as_the_account(client, siwe, smart_accounts, deployed):
    account = smart_accounts(Account.create(), deployed=deployed, salt=5)
    response = _sign_in(client, siwe, account, signer=Account.create())
    assert response.status_code == 401
    assert response.json()["error"] == services.ERR_SIGNATURE.format(address=account.address)
    assert "_auth_user_id" not in client.session


def test_a_long_signature_for_an_address_without_code_is_malformed(client, siwe, chain, wallet):
    message = siwe_message(address=wallet.address, nonce=siwe.nonce(client))
    response = siwe.verify(client, message, personal_sign(wallet, message) + "00" * 32)
    assert response.status_code == 400
    assert response.json()["error"] == services.ERR_SIGNATURE_FORMAT


def test_a_contract_signature_without_a_chain_is_a_503_and_keeps_the_nonce(
    client, siwe, smart_accounts, settings
):
    account = smart_accounts(Account.create(), deployed=False, salt=9)
    message = siwe_message(address=account.address, nonce=siwe.nonce(client))
    signature = account.wrap(personal_sign(account.owner, message))
    chain_url, settings.CHAIN_RPC_URL = settings.CHAIN_RPC_URL, "http://127.0.0.1:9"
    response = siwe.verify(client, message, signature)
    assert response.status_code == 503
    assert response.json()["error"] == ERR_UNVERIFIABLE
    settings.CHAIN_RPC_URL = chain_url  # the chain is back: the same signed message signs in
    assert siwe.verify(client, message, signature).status_code == 200

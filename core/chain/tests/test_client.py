import pytest
from django.test import override_settings

from core.chain.client import ChainUnavailable, chain_check, web3_for_url


@pytest.mark.anvil
def test_anvil_answers_with_the_configured_chain_id(anvil_url):
    with override_settings(CHAIN_RPC_URL=anvil_url, CHAIN_ID=31337):
        assert chain_check(web3_for_url(anvil_url)) == 31337


@pytest.mark.anvil
def test_a_chain_id_mismatch_is_explained(anvil_url):
    with (
        override_settings(CHAIN_RPC_URL=anvil_url, CHAIN_ID=1),
        pytest.raises(ChainUnavailable, match="reports chain id 31337, but CHAIN_ID is 1"),
    ):
        chain_check(web3_for_url(anvil_url))


def test_an_unreachable_chain_is_explained():
    from core.chain.anvil import free_port

    url = f"http://127.0.0.1:{free_port()}"
    with override_settings(CHAIN_RPC_URL=url), pytest.raises(ChainUnavailable, match="No chain answers"):
        chain_check(web3_for_url(url, timeout=1))


@pytest.mark.django_db
def test_a_missing_deployment_names_the_setting_for_that_contract(anvil_url, settings):
    from core.chain.contracts import MARKET, REGISTRY, ContractNotDeployed, contract_address

    settings.LICENSE_MARKET_ADDRESS = settings.PROVENANCE_REGISTRY_ADDRESS = ""
    w3 = web3_for_url(anvil_url)
    with pytest.raises(ContractNotDeployed, match="LICENSE_MARKET_ADDRESS"):
        contract_address(w3=w3, name=MARKET)
    with pytest.raises(ContractNotDeployed, match="PROVENANCE_REGISTRY_ADDRESS"):
        contract_address(w3=w3, name=REGISTRY)

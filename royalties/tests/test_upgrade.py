"""Upgrading a running portal from the version-1 contracts: the migration keeps version 1 under
its own name, `chain_deploy` puts version 2 beside it, the indexer follows both, money in
version 1 (a credited sale, an unclaimed settlement allocation) is withdrawn from the earnings
page, and everything new is quoted, settled and paid on version 2."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from web3 import Web3

from core.chain import market as eip712
from core.chain.client import get_web3
from core.chain.contracts import (
    MARKET,
    MARKET_V1,
    REGISTRY,
    REGISTRY_V1,
    constructor_args,
    contract,
    contract_deploy,
)
from core.chain.eip712 import typed_data_sign
from core.chain.events import index_all
from core.chain.keys import platform_signer, sender_account
from core.chain.merkle import SETTLEMENT_V1_LEAF_ENCODING, StandardMerkleTree
from core.chain.models import ContractDeployment
from licensing import services as licensing
from licensing.terms import PRESETS
from licensing.tests.helpers import fund, mine, send_tx
from royalties.ledger import balance
from royalties.models import LedgerAccount, Settlement
from royalties.reconciliation import reconcile
from royalties.settlement import settlement_create, settlement_transaction
from tests.fixtures.chain import register_work

pytestmark = pytest.mark.anvil
Kind = LedgerAccount.Kind
MIGRATION = importlib.import_module("core.chain.migrations.0003_version_one_contracts")


@pytest.fixture
def upgraded(anvil_factory, settings, transactional_db, capsys):
    """A chain where the portal ran version 1 (recorded under the names it had then), migrated
    and ran chain_deploy."""
    settings.CHAIN_RPC_URL = anvil_factory()
    settings.CHAIN_CONFIRMATIONS = 2
    settings.PROVENANCE_REGISTRY_ADDRESS = settings.LICENSE_MARKET_ADDRESS = ""
    w3 = get_web3()
    for name, old_name in ((REGISTRY_V1, REGISTRY), (MARKET_V1, MARKET)):
        deployment = contract_deploy(w3=w3, name=name, args=constructor_args(name), account=sender_account())
        ContractDeployment.objects.filter(pk=deployment.pk).update(name=old_name)

    MIGRATION.forwards(django_apps, None)
    assert set(ContractDeployment.objects.values_list("name", flat=True)) == {REGISTRY_V1, MARKET_V1}
    call_command("chain_deploy")
    out = capsys.readouterr().out
    assert "LicenseMarket deployed at" in out and "ProvenanceRegistry deployed at" in out
    v1, v2 = contract(w3=w3, name=MARKET_V1), contract(w3=w3, name=MARKET)
    assert v1.address != v2.address
    return w3, v1, v2


def _index(w3):
    mine(w3, 2)
    return index_all(w3=w3)


def _signed_for_version_one(quote, v1):
    """The quote as version 1 signed it before the upgrade (its domain, its market)."""
    typed = eip712.quote_v1_typed_data(quote.typed_data)
    typed["domain"]["verifyingContract"] = v1.address
    quote.typed_data, quote.market_address = typed, v1.address
    quote.signature = typed_data_sign(typed, platform_signer())
    quote.save(update_fields=["typed_data", "market_address", "signature"])
    return quote


def _settled_for_version_one(settlement, v1):
    """The settlement as version 1 built it: untagged (index, payee, amount) leaves, no epoch."""
    allocations = settlement.allocations.order_by("index")
    tree = StandardMerkleTree.of(
        [[a.index, a.payee, int(a.amount)] for a in allocations], SETTLEMENT_V1_LEAF_ENCODING
    )
    typed = eip712.settlement_v1_typed_data(settlement.typed_data)
    typed["domain"]["verifyingContract"] = v1.address
    typed["message"]["root"] = Web3.to_hex(tree.root)
    Settlement.objects.filter(pk=settlement.pk).update(
        typed_data=typed,
        root=Web3.to_hex(tree.root),
        tree=tree.dump(),
        market_address=v1.address,
        signature=typed_data_sign(typed, platform_signer()),
    )
    settlement.refresh_from_db()
    return settlement


def test_money_in_version_one_is_withdrawn_and_new_sales_go_to_version_two(
    upgraded, creator, buyer, ai_company, org, client
):
    w3, v1, v2 = upgraded
    for persona in (creator, buyer, ai_company):
        fund(w3, persona.address)
    work = register_work(creator, seed=1700, title="Before the upgrade", w3=w3)
    offer = licensing.offer_create(work=work, terms=PRESETS["commercial_use"][1], preset="commercial_use")

    # Version 1: a sale paid before the upgrade, and a settlement whose allocation nobody claimed.
    old_quote = _signed_for_version_one(
        licensing.quote_create(offer=offer, buyer=buyer.user, buyer_address=buyer.address, w3=w3), v1
    )
    tx = licensing.quote_transaction(quote=old_quote, w3=w3)
    assert tx["to"] == v1.address and send_tx(w3, buyer.account, tx).status == 1
    old_settlement = _settled_for_version_one(
        settlement_create(
            org=org,
            buyer_address=ai_company.address,
            purpose=Settlement.Purpose.TRAINING_LICENCE,
            lines=[(work, 4 * 10**15, offer.terms.terms_hash)],
            w3=w3,
        ),
        v1,
    )
    tx = settlement_transaction(settlement=old_settlement, w3=w3)
    assert tx["to"] == v1.address and send_tx(w3, ai_company.account, tx).status == 1
    indexed = _index(w3)["indexed"]
    assert set(indexed) == {MARKET, MARKET_V1} and indexed[MARKET_V1] > 0  # the indexer follows both
    old_settlement.refresh_from_db()
    assert old_settlement.status == Settlement.Status.PAID
    in_v1 = v1.functions.balanceOf(creator.address).call()
    allocated = balance(kind=Kind.ALLOCATED, address=creator.address)
    assert in_v1 > 0 and allocated > 0

    # Version 2: everything new.
    second = licensing.offer_create(
        work=register_work(creator, seed=1701, w3=w3),
        terms=PRESETS["commercial_use"][1],
        preset="commercial_use",
    )
    quote = licensing.quote_create(offer=second, buyer=buyer.user, buyer_address=buyer.address, w3=w3)
    assert quote.market_address == v2.address and quote.typed_data["domain"]["version"] == "2"
    assert send_tx(w3, buyer.account, licensing.quote_transaction(quote=quote, w3=w3)).status == 1
    _index(w3)
    in_v2 = v2.functions.balanceOf(creator.address).call()
    assert in_v2 > 0
    assert balance(kind=Kind.CREDITED, address=creator.address) == in_v1 + in_v2
    assert reconcile(w3=w3).ok  # summed over both markets

    # The earnings page: everything is available; Withdraw empties version 2, then version 1
    # (claiming the old allocation with its version-1 proof in the same transaction).
    client.force_login(creator.user)
    assert client.get("/earnings/").context["available"] == in_v1 + in_v2 + allocated
    before = w3.eth.get_balance(creator.address)
    spent = 0
    for market, amount, claims in ((v2, in_v2, 0), (v1, in_v1 + allocated, 1)):
        prepared = client.get("/earnings/withdraw/tx").json()
        assert prepared["tx"]["to"] == market.address
        assert int(prepared["amount"]) == amount and prepared["claims"] == claims
        receipt = send_tx(w3, creator.account, prepared["tx"])
        assert receipt.status == 1
        spent += receipt.gasUsed * receipt.effectiveGasPrice
        client.post(
            "/earnings/withdraw/submitted",
            {"txHash": receipt.transactionHash.to_0x_hex()},
            content_type="application/json",
        )
        _index(w3)
    assert w3.eth.get_balance(creator.address) == before + in_v1 + in_v2 + allocated - spent
    assert client.get("/earnings/withdraw/tx").status_code == 409  # nothing left anywhere
    assert balance(kind=Kind.CREDITED, address=creator.address) == 0
    assert balance(kind=Kind.ALLOCATED, address=creator.address) == 0
    assert balance(kind=Kind.WITHDRAWN, address=creator.address) == in_v1 + in_v2 + allocated
    assert reconcile(w3=w3).ok

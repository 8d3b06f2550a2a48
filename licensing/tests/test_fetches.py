"""AI use per fetch with x402 on a real anvil: prohibited is 403, free is the file, paid is 402
with version 2 payment requirements until a valid EIP-3009 authorisation comes, then the file
with its licence and the settlement; the money goes through LicenseMarket, split as for a
licence, and into the ledger in the stablecoin. Bad payments get 402 with the reason and move
nothing. The third-party client here is the x402 Python SDK's; npm's @x402/fetch is in
test_fetches_node.py."""

import base64
import json
import secrets
import time

import pytest
import requests
from django.conf import settings
from eth_account import Account
from web3 import Web3
from x402 import x402ClientSync
from x402.http.clients import wrapRequestsWithPayment
from x402.http.utils import (
    decode_payment_required_header,
    decode_payment_response_header,
    encode_payment_signature_header,
)
from x402.mechanisms.evm.exact.register import register_exact_evm_client
from x402.schemas import PaymentPayload

from core.chain.contracts import MARKET, contract
from core.chain.eip712 import typed_data_sign
from core.chain.keys import platform_fee_address
from core.chain.stablecoin import stablecoin, transfer_authorization_typed_data
from licensing import services
from licensing.delivery import manifest_of, training_mining_of
from licensing.models import PaidFetch
from licensing.terms import AI_FREE, AI_PAID, Terms
from licensing.tests.helpers import index, mine, mint_stablecoin
from royalties.models import JournalLine, LedgerAccount

pytestmark = pytest.mark.anvil
PRICE = 50_000  # 0.05 of a 6-decimal stablecoin


@pytest.fixture
def chain(private_chain):
    """An anvil of each test's own: x402 authorisations are timed by the wall clock (as clients
    and the SDK's verifier time them) and checked by the chain's, which other tests move."""
    return private_chain


@pytest.fixture
def agent(chain):
    """An automated client: a wallet with 1 unit of the stablecoin and no account here."""
    account = Account.create()
    mint_stablecoin(chain, account.address, 10**6)
    return account


@pytest.fixture
def works(register, chain, creator):
    def offered(seed, title, **fetch):
        work = register(creator, seed=seed, w3=chain, title=title)
        services.offer_create(work=work, terms=Terms(commercial_use=True, fee_wei=10**16, **fetch), preset="")
        return work

    return {
        "prohibited": offered(760, "No AI"),
        "free": offered(761, "Free for agents", ai_fetch=AI_FREE),
        "paid": offered(762, "Paid per fetch", ai_fetch=AI_PAID, ai_fetch_price_units=PRICE),
    }


def _required(response):
    assert response.status_code == 402, response.content
    return decode_payment_required_header(response["PAYMENT-REQUIRED"])


def test_prohibited_is_403_free_is_the_file_paid_is_402_with_v2_requirements(client, works, chain):
    response = client.get(f"/works/{works['prohibited'].pk}/ai")
    assert response.status_code == 403
    assert response.json()["code"] == "ai_use_prohibited" and "do not allow" in response.json()["error"]

    response = client.get(f"/works/{works['free'].pk}/ai")
    assert response.status_code == 200 and response["Content-Type"] == works["free"].mime
    with works["free"].original.open("rb") as handle:
        assert response.content == handle.read()

    paid = works["paid"]
    required = _required(client.get(f"/works/{paid.pk}/ai"))
    assert required.x402_version == 2 and required.resource.url == f"http://testserver/works/{paid.pk}/ai"
    (wanted,) = required.accepts
    assert wanted.scheme == "exact" and wanted.network == f"eip155:{settings.CHAIN_ID}"
    assert wanted.asset == stablecoin(w3=chain).address and wanted.amount == str(PRICE)
    assert wanted.pay_to == contract(w3=chain, name=MARKET).address
    assert wanted.max_timeout_seconds == settings.X402_MAX_TIMEOUT_SECONDS
    assert wanted.extra == {"name": settings.STABLECOIN_NAME, "version": settings.STABLECOIN_VERSION}

    page = client.get(f"/works/{paid.pk}/")  # a person's browser is never asked to pay
    assert page.status_code == 200 and not page.has_header("PAYMENT-REQUIRED")
    # what the AI-preference vocabulary cannot say is linked: the prices, and where to pay per fetch
    assert page["Link"] == (
        '<http://testserver/license.xml>; rel="license"; type="application/rsl+xml", '
        f'<http://testserver/works/{paid.pk}/ai>; rel="payment"'
    )
    assert client.get(f"/works/{paid.pk}/ai")["Content-Usage"] == "train-ai=n, search=y"
    assert 'rel="payment"' not in client.get(f"/works/{works['prohibited'].pk}/")["Link"]
    assert (
        "AI use of a fetched copy (agents, crawlers): allowed for 0.05 tUSDC per fetch"
        in page.content.decode()
    )


def test_the_x402_python_client_pays_gets_the_licensed_file_and_the_split_reaches_the_ledger(
    live_server, works, chain, agent, creator
):
    paid = works["paid"]
    token, market = stablecoin(w3=chain), contract(w3=chain, name=MARKET)
    x402 = x402ClientSync()
    register_exact_evm_client(x402, agent)
    # the agent's owner allows this token, up to 0.10 a payment (the SDK only knows real networks)
    x402.set_spend_controls(
        {
            "allowed_assets": [
                {
                    "network": f"eip155:{settings.CHAIN_ID}",
                    "asset": token.address,
                    "max_amount_per_payment": "100000",
                }
            ]
        }
    )
    session = wrapRequestsWithPayment(requests.Session(), x402)

    response = session.get(f"{live_server.url}/works/{paid.pk}/ai")

    assert response.status_code == 200, response.text
    settled = decode_payment_response_header(response.headers["PAYMENT-RESPONSE"])
    assert settled.success and settled.payer == agent.address and settled.amount == str(PRICE)
    receipt = chain.eth.get_transaction_receipt(settled.transaction)
    assert receipt.status == 1 and receipt.to == market.address
    # the money: from the agent to the market, credited to the creator and the platform
    assert token.functions.balanceOf(agent.address).call() == 10**6 - PRICE
    assert token.functions.balanceOf(market.address).call() == PRICE
    fee = PRICE * settings.PLATFORM_FEE_BPS // 10_000
    assert market.functions.tokenBalanceOf(token.address, creator.address).call() == PRICE - fee
    assert market.functions.tokenBalanceOf(token.address, platform_fee_address()).call() == fee
    fetch = PaidFetch.objects.get()
    assert (fetch.status, fetch.payer, int(fetch.amount_units)) == ("paid", agent.address, PRICE)
    # the file: the original with a C2PA manifest that says the payer may use it as AI input
    manifest = manifest_of(response.content, paid.mime)
    assert training_mining_of(manifest)["cawg.ai_inference"] == {"use": "allowed"}
    assert agent.address.encode() in response.content  # XMP rights name the payer
    receipt_url = json.dumps(manifest)
    assert fetch.quote_id in receipt_url
    assert live_server.url in receipt_url
    public = requests.get(f"{live_server.url}/fetches/{fetch.quote_id}.json", timeout=10).json()
    assert public["payer"] == agent.address and public["transaction"] == settled.transaction

    # the ledger, from the chain's TokenCredited events, in the stablecoin only
    mine(chain, settings.CHAIN_CONFIRMATIONS)
    index(chain)
    lines = JournalLine.objects.filter(entry__tx_hash=settled.transaction).select_related("account")
    assert {line.currency for line in lines} == {"tUSDC"} and sum(int(line.amount) for line in lines) == 0
    earned = {
        (line.account.address, line.role): int(line.amount)
        for line in lines
        if line.account.kind == LedgerAccount.Kind.CREDITED
    }
    assert earned == {(creator.address, "creator"): PRICE - fee, (platform_fee_address(), "platform"): fee}


def _payload(chain, required, signer, **change):
    """An x402 v2 exact payload signed as a client would, with `change` applied."""
    wanted = required.accepts[0]
    now = int(time.time())
    authorization = {
        "from": signer.address,
        "to": wanted.pay_to,
        "value": str(PRICE),
        "validAfter": str(now - 60),
        "validBefore": str(now + 120),
        "nonce": "0x" + secrets.token_hex(32),
    }
    authorization.update({k: v for k, v in change.items() if k in authorization})
    typed = transfer_authorization_typed_data(
        chain_id=chain.eth.chain_id,
        token=change.get("sign_token", wanted.asset),
        sender=authorization["from"],
        to=authorization["to"],
        value=int(authorization["value"]),
        valid_after=int(authorization["validAfter"]),
        valid_before=int(authorization["validBefore"]),
        nonce=authorization["nonce"],
    )
    accepted = wanted.model_copy(update={k: change[k] for k in ("network", "asset", "amount") if k in change})
    payload = PaymentPayload(
        x402_version=2,
        accepted=accepted,
        resource=required.resource,
        payload={
            "authorization": authorization,
            "signature": typed_data_sign(typed, change.get("key", signer)),
        },
    )
    return encode_payment_signature_header(payload)


def test_bad_payments_get_402_with_the_reason_and_nothing_moves(client, works, chain, agent, outsider):
    paid = works["paid"]
    url = f"/works/{paid.pk}/ai"
    required = _required(client.get(url))
    token = stablecoin(w3=chain)
    now = int(time.time())
    cases = {
        "expired": ({"validBefore": str(now - 1)}, "expired"),
        "underpaid": ({"value": str(PRICE - 1)}, "Underpaid"),
        "wrong network": ({"network": "eip155:1"}, "Wrong network"),
        "wrong asset": ({"asset": Account.create().address}, "Wrong asset"),
        "forged": ({"key": outsider.account}, "not the payer's"),
        "other token's domain": ({"sign_token": Account.create().address}, "not the payer's"),
    }
    for name, (change, words) in cases.items():
        response = client.get(url, headers={"PAYMENT-SIGNATURE": _payload(chain, required, agent, **change)})
        body = response.json()
        assert response.status_code == 402, name
        assert words in body["error"], (name, body)
        assert decode_payment_required_header(response["PAYMENT-REQUIRED"]).error == body["error"]
    bad_nonce = json.loads(base64.b64decode(_payload(chain, required, agent)))
    bad_nonce["payload"]["authorization"]["nonce"] = "0xnothex"
    for header in (
        "not base64!",
        base64.b64encode(b'{"x402Version": 2}').decode(),
        base64.b64encode(json.dumps(bad_nonce).encode()).decode(),
    ):
        response = client.get(url, headers={"PAYMENT-SIGNATURE": header})
        assert response.status_code == 402 and response.json()["code"] == "malformed"
    assert token.functions.balanceOf(agent.address).call() == 10**6
    assert not PaidFetch.objects.filter(status="paid").exists()

    good = _payload(chain, required, agent)
    assert client.get(url, headers={"PAYMENT-SIGNATURE": good}).status_code == 200
    replay = client.get(url, headers={"PAYMENT-SIGNATURE": good})
    assert replay.status_code == 402 and replay.json()["code"] == "authorization_used"
    assert token.functions.balanceOf(agent.address).call() == 10**6 - PRICE  # paid once
    assert PaidFetch.objects.filter(status="paid").count() == 1


def test_a_poor_agent_is_refused_before_anything_is_sent(client, works, chain):
    broke = Account.create()
    required = _required(client.get(f"/works/{works['paid'].pk}/ai"))
    response = client.get(
        f"/works/{works['paid'].pk}/ai", headers={"PAYMENT-SIGNATURE": _payload(chain, required, broke)}
    )
    assert response.status_code == 402 and "balance is too low" in response.json()["error"]
    assert not PaidFetch.objects.exists()
    assert Web3.to_checksum_address(broke.address) not in {a.address for a in LedgerAccount.objects.all()}


def test_npm_x402_fetch_pays_and_receives_the_file(live_server, works, chain, agent, creator):
    """npm's @x402/fetch with @x402/evm (viem) and a funded anvil account: a client this
    project did not write reads the 402, signs the EIP-3009 authorisation and gets the file."""
    import hashlib
    import subprocess

    paid = works["paid"]
    token = stablecoin(w3=chain)
    run = subprocess.run(
        [
            "node",
            str(settings.BASE_DIR / "tests" / "node" / "x402_fetch.js"),
            f"{live_server.url}/works/{paid.pk}/ai",
            agent.key.hex() if agent.key.hex().startswith("0x") else "0x" + agent.key.hex(),
            token.address,
            f"eip155:{settings.CHAIN_ID}",
            "100000",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=settings.BASE_DIR,
    )
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["status"] == 200, (result, run.stderr)
    settlement = result["settlement"]
    assert settlement["success"] and settlement["payer"] == agent.address
    assert chain.eth.get_transaction_receipt(settlement["transaction"]).status == 1
    assert token.functions.balanceOf(agent.address).call() == 10**6 - PRICE
    fee = PRICE * settings.PLATFORM_FEE_BPS // 10_000
    market = contract(w3=chain, name=MARKET)
    assert market.functions.tokenBalanceOf(token.address, creator.address).call() == PRICE - fee
    fetch = PaidFetch.objects.get(status="paid")
    assert fetch.tx_hash == settlement["transaction"]
    with paid.original.open("rb") as handle:
        assert result["bytes"] > len(handle.read())  # the original, with its licence added
    assert result["sha256"] != hashlib.sha256(b"").hexdigest()


def test_ai_fetch_earnings_show_in_the_stablecoin_withdraw_and_reconcile(
    client, works, chain, agent, creator
):
    """The creator's earnings page shows AI fetches in the stablecoin beside (never added to)
    the ETH figures; the Withdraw button empties the token balance; the ledger reconciles."""
    from licensing.tests.helpers import fund, send_tx
    from royalties.reconciliation import reconcile

    paid = works["paid"]
    required = _required(client.get(f"/works/{paid.pk}/ai"))
    header = _payload(chain, required, agent)
    assert client.get(f"/works/{paid.pk}/ai", headers={"PAYMENT-SIGNATURE": header}).status_code == 200
    mine(chain, settings.CHAIN_CONFIRMATIONS)
    index(chain)
    share = PRICE - PRICE * settings.PLATFORM_FEE_BPS // 10_000

    client.force_login(creator.user)
    page = client.get("/earnings/").content.decode()
    assert 'data-testid="ai-fetches"' in page
    assert f'data-testid="ai-total">{share / 10**6:g} tUSDC' in page
    assert f'data-testid="ai-available">{share / 10**6:g} tUSDC' in page
    assert 'data-testid="total-all">0 ETH' in page  # the ETH totals are not mixed with the token
    work_page = client.get(f"/works/{paid.pk}/").content.decode()
    assert f"{share / 10**6:g} tUSDC" in work_page  # what the work earned, for its parties
    assert "AI fetches paid with x402: 1, 0.05 tUSDC in all" in work_page
    dashboard = client.get("/dashboard/").content.decode()
    assert f'data-testid="dashboard-token-earnings">{share / 10**6:g} tUSDC' in dashboard
    assert 'data-testid="dashboard-earnings"' not in dashboard  # no ETH earnings: no ETH line
    assert reconcile(w3=chain).ok

    prepared = client.get("/earnings/withdraw/token/tx").json()
    assert int(prepared["amount"]) == share and prepared["currency"] == "tUSDC"
    fund(chain, creator.address)
    assert send_tx(chain, creator.account, prepared["tx"]).status == 1
    assert stablecoin(w3=chain).functions.balanceOf(creator.address).call() == share
    mine(chain, settings.CHAIN_CONFIRMATIONS)
    index(chain)
    run = reconcile(w3=chain)
    assert run.ok, run.mismatches
    assert client.get("/earnings/withdraw/token/tx").status_code == 409
    page = client.get("/earnings/").content.decode()
    assert 'data-testid="ai-available">0 tUSDC' in page


def test_a_creator_prices_ai_use_per_fetch_in_the_offer_form(client, register, chain, creator):
    work = register(creator, seed=770, w3=chain, title="Priced on the form")
    client.force_login(creator.user)
    form = client.get(f"/works/{work.pk}/offers/new?preset=commercial_use").context["form"]
    data = {k: v for k, v in form.initial.items() if v not in (None, False)}
    page = client.post(
        f"/works/{work.pk}/offers/new", {**data, "ai_fetch": "paid", "ai_fetch_price": "0.0000001"}
    ).content.decode()
    assert "Enter an amount in tUSDC, like 0.05 (at most 6 decimal places)." in page
    page = client.post(f"/works/{work.pk}/offers/new", {**data, "ai_fetch": "paid"}).content.decode()
    assert "Set a price, or choose free or prohibited." in page
    response = client.post(
        f"/works/{work.pk}/offers/new", {**data, "ai_fetch": "paid", "ai_fetch_price": "0.05"}
    )
    assert response.status_code == 302
    terms = work.offers.get().terms.terms
    assert (terms.ai_fetch, terms.ai_fetch_price_units) == ("paid", 50_000)
    assert _required(client.get(f"/works/{work.pk}/ai")).accepts[0].amount == "50000"

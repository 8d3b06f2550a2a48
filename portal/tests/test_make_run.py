"""`make run` smoke test: the whole stack starts on embedded defaults and stops on Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from core.chain.anvil import free_port, rpc_answers

BASE_DIR = Path(__file__).resolve().parents[2]
ANCHOR_SCRIPT = """
import io, time
from eth_account import Account
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from core.chain.eip712 import typed_data_sign
from works import services
account = Account.create()
user = get_user_model().objects.create(username=account.address)
buffer = io.BytesIO()
Image.radial_gradient("L").convert("RGB").resize((300, 300)).save(buffer, format="JPEG")
work = services.work_upload(user=user, creator_address=account.address,
                            file=SimpleUploadedFile("a.jpg", buffer.getvalue()), title="Smoke")
typed = services.registration_typed_data(registration=work.registration)
services.registration_sign(registration=work.registration, signature=typed_data_sign(typed, account))
for _ in range(90):
    work.registration.refresh_from_db()
    if work.registration.status == "confirmed":
        break
    time.sleep(1)
print(work.registration.status)

# A buyer pays for a licence; the beat indexer issues it once the payment is confirmed.
from licensing import services as licensing
from licensing.models import Licence
from licensing.terms import PRESETS
from core.chain.client import get_web3
w3 = get_web3()
# A co-creator takes 30 % of the creator share, accepted with their wallet's signature.
from royalties import services as royalties
co = Account.create()
get_user_model().objects.create(username=co.address)
sheet = royalties.split_sheet_propose(work=work, user=user, parties=[(co.address, "colourist", 3000)])
accept = royalties.split_acceptance_typed_data(sheet=sheet, party=sheet.parties.get())
royalties.split_sheet_accept(sheet=sheet, address=co.address, signature=typed_data_sign(accept, co))
offer = licensing.offer_create(work=work, terms=PRESETS["commercial_use"][1], preset="commercial_use")
buyer = Account.create()
buyer_user = get_user_model().objects.create(username=buyer.address)
w3.provider.make_request("anvil_setBalance", [buyer.address, hex(10**20)])
quote = licensing.quote_create(offer=offer, buyer=buyer_user, buyer_address=buyer.address)
tx = licensing.quote_transaction(quote=quote)
signed = buyer.sign_transaction({"to": tx["to"], "data": tx["data"], "value": int(tx["value"], 16),
    "chainId": w3.eth.chain_id, "nonce": 0, "gas": 500000,
    "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9})
w3.eth.send_raw_transaction(signed.raw_transaction)
for _ in range(90):
    if Licence.objects.filter(quote=quote).exists():
        break
    time.sleep(1)
print("licensed" if Licence.objects.filter(quote=quote).exists() else "no licence")

# The ledger mirrors the contract for every party; the co-creator withdraws; reconciliation agrees.
from core.chain.contracts import MARKET, contract
from royalties.ledger import balance
from royalties.models import JournalEntry, ReconciliationRun
market = contract(w3=w3, name=MARKET)
for _ in range(60):
    if JournalEntry.objects.filter(kind="sale").count() >= 3:
        break
    time.sleep(1)
shares = {a.address: balance(kind="credited", address=a.address) for a in (account, co)}
assert all(shares[a] == market.functions.balanceOf(a).call() > 0 for a in shares), shares
w3.provider.make_request("anvil_setBalance", [co.address, hex(10**18)])
withdraw = co.sign_transaction({"to": market.address, "data": market.encode_abi("withdraw", args=[]),
    "value": 0, "chainId": w3.eth.chain_id, "nonce": 0, "gas": 200000, "maxFeePerGas": 10**10,
    "maxPriorityFeePerGas": 10**9})
w3.eth.send_raw_transaction(withdraw.raw_transaction)
for _ in range(60):
    if balance(kind="withdrawn", address=co.address) == shares[co.address]:
        break
    time.sleep(1)
print("withdrawn" if balance(kind="withdrawn", address=co.address) == shares[co.address] else "not withdrawn")
since = ReconciliationRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
for _ in range(60):
    run = ReconciliationRun.objects.filter(pk__gt=since, checked__gt=0).order_by("-pk").first()
    if run:
        break
    time.sleep(1)
print("reconciled" if run and run.ok else f"reconciliation: {run and run.mismatches}")

# A dispute upheld with revocation: the beat anchors the revocation in the next batch.
from disputes.flows import decision as decisions, filing
from works.models import Revocation
claimant = get_user_model().objects.create(username=Account.create().address)
mod = get_user_model().objects.create_superuser("smoke-mod", "mod@example.org", "smoke-pass-123456")
dispute = filing.dispute_file(user=claimant, work=work, kind="registration",
                                statement="This picture is mine; someone else registered it.")
decisions.dispute_decide(dispute=dispute, moderator=mod, decision="uphold", reason="Smoke.", revoke=True,
                        urgent_reason="A smoke test cannot wait a week.")
for _ in range(90):
    revocation = Revocation.objects.get(work=work)
    if revocation.status == "confirmed":
        break
    time.sleep(1)
print("revoked" if revocation.status == "confirmed" else f"revocation {revocation.status}")
"""
pytestmark = pytest.mark.slow


def _wait_for(predicate, timeout, what, process):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"make run exited ({process.returncode}) before {what}")
        try:
            if predicate():
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_make_run_serves_the_portal_chain_and_worker(tmp_path):
    web_port, chain_port = free_port(), free_port()
    chain_url = f"http://127.0.0.1:{chain_port}"
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "REQUIRE_SERVICES"}
    }
    env.update(
        {
            "PORT": str(web_port),
            "CHAIN_RPC_URL": chain_url,
            "VAR_DIR": str(tmp_path / "var"),
            "PYTHONUNBUFFERED": "1",
            # anchor every pending registration at the next beat (confirmations: the default, 2)
            "ANCHOR_BATCH_SECONDS": "0",
            "ANCHOR_TICK_SECONDS": "1",
            "INDEXER_TICK_SECONDS": "1",
            "RECONCILE_SECONDS": "2",
        }
    )
    with open(tmp_path / "make-run.log", "wb") as log:
        process = subprocess.Popen(
            ["make", "run"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for(
            lambda: requests.get(f"http://127.0.0.1:{web_port}/", timeout=2).status_code == 200,
            120,
            "the home page",
            process,
        )
        home = requests.get(f"http://127.0.0.1:{web_port}/", timeout=5)
        assert "Creator IP Portal" in home.text
        assert requests.get(f"http://127.0.0.1:{web_port}/static/js/wallet.js", timeout=5).status_code == 200

        chain = requests.post(
            chain_url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=5
        ).json()
        assert int(chain["result"], 16) == 31337

        roundtrip = subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                "import json; from core.tasks import ping; "
                "print(json.dumps(ping.delay('hello').get(timeout=60)))",
            ],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert roundtrip.returncode == 0, roundtrip.stderr
        result = json.loads(roundtrip.stdout.strip().splitlines()[-1])
        assert result["echo"] == "hello"
        assert result["pid"] != process.pid  # it ran in the worker, not here

        # End to end through beat + worker: a signed registration gets anchored on the stack's anvil.
        anchored = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", ANCHOR_SCRIPT],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert anchored.returncode == 0, anchored.stderr[-3000:]
        assert anchored.stdout.strip().splitlines()[-5:] == [
            "confirmed",
            "licensed",
            "withdrawn",
            "reconciled",
            "revoked",
        ], anchored.stdout
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    time.sleep(1)
    assert not rpc_answers(chain_url), "anvil outlived Ctrl-C"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{web_port}/", timeout=2)
    output = (tmp_path / "make-run.log").read_text()
    assert "Stopped." in output, output[-3000:]
    assert "ProvenanceRegistry at 0x" in output, output[-3000:]
    assert "LicenseMarket at 0x" in output, output[-3000:]

"""A portal running in other processes, and people using it over HTTP: for the soak test (the
`make run` stack under faults) and the production-shape test (the Procfile's processes).

`PortalClient` is a browser without a browser: it keeps cookies and the CSRF token, signs in
with a real wallet key (SIWE), uploads, signs registrations, publishes offers, buys licences and
pays for them on the chain, runs audits, and counts every request it made and every one that
failed (a 5xx, or no answer at all).
"""

import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data

BASE_DIR = Path(__file__).resolve().parents[2]
ERR_PATTERNS = re.compile(r"Traceback \(most recent call last\)|Unrecoverable error")


@dataclass
class Traffic:
    made: int = 0
    failures: list[str] = field(default_factory=list)
    slowest_ms: float = 0.0

    def count(self, method: str, url: str, response: requests.Response | None, error: str = "") -> None:
        self.made += 1
        if response is None or response.status_code >= 500:
            detail = error or f"{response.status_code}: {response.text[:200]}"
            self.failures.append(f"{method} {url}: {detail}")


class PortalClient:
    def __init__(self, base: str, traffic: Traffic, account=None):
        self.base = base.rstrip("/")
        self.traffic = traffic
        self.account = account or Account.create()
        self.session = requests.Session()

    # ------------------------------------------------------------------ plumbing

    def request(self, method: str, path: str, *, expect=(200, 302), **kwargs) -> requests.Response:
        url = self.base + path
        kwargs.setdefault("timeout", 60)
        kwargs.setdefault("allow_redirects", False)
        headers = kwargs.pop("headers", {})
        if method != "GET":
            headers.setdefault("X-CSRFToken", self.csrf())
            headers.setdefault("Referer", self.base + "/")
        started = time.monotonic()
        try:
            response = self.session.request(method, url, headers=headers, **kwargs)
        except requests.RequestException as exc:
            self.traffic.count(method, path, None, f"{type(exc).__name__}: {exc}")
            raise
        self.traffic.slowest_ms = max(self.traffic.slowest_ms, (time.monotonic() - started) * 1000)
        self.traffic.count(method, path, response)
        if expect and response.status_code not in expect:
            raise AssertionError(f"{method} {path} answered {response.status_code}: {response.text[:500]}")
        return response

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def csrf(self) -> str:
        if "csrftoken" not in self.session.cookies:
            self.session.get(self.base + "/auth/signin", timeout=30)
        return self.session.cookies.get("csrftoken", "")

    # ------------------------------------------------------------------ journeys

    def sign_in(self) -> None:
        host = self.base.split("://", 1)[1]
        nonce = self.get("/auth/siwe/nonce").json()["nonce"]
        issued = datetime.now(UTC)

        def stamp(moment):
            return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

        message = "\n".join(
            [
                f"{host} wants you to sign in with your Ethereum account:",
                self.account.address,
                "",
                "Sign in to the Creator IP Portal.",
                "",
                f"URI: {self.base}",
                "Version: 1",
                "Chain ID: 31337",
                f"Nonce: {nonce}",
                f"Issued At: {stamp(issued)}",
                f"Expiration Time: {stamp(issued + timedelta(minutes=5))}",
            ]
        )
        signature = self.account.sign_message(encode_defunct(text=message)).signature.to_0x_hex()
        self.request(
            "POST", "/auth/siwe/verify", json={"message": message, "signature": signature}, expect=(200,)
        )

    def upload(self, data: bytes, title: str) -> int:
        response = self.request(
            "POST",
            "/works/new",
            data={"title": title, "csrfmiddlewaretoken": self.csrf()},
            files={"file": (f"{title}.jpg", data, "image/jpeg")},
            expect=(302,),
        )
        return int(re.search(r"/works/(\d+)/", response.headers["Location"]).group(1))

    def sign_registration(self, work_id: int) -> str:
        typed = self.get(f"/works/{work_id}/typed-data", expect=(200,)).json()["typedData"]
        signature = self.account.sign_message(encode_typed_data(full_message=typed)).signature.to_0x_hex()
        return self.request(
            "POST", f"/works/{work_id}/sign", json={"signature": signature}, expect=(200,)
        ).json()["status"]

    def publish_offer(self, work_id: int) -> int:
        self.request(
            "POST",
            f"/works/{work_id}/offers/new",
            data={
                "csrfmiddlewaretoken": self.csrf(),
                "preset": "commercial_use",
                "fee_eth": "0.01",
                "commercial_use": "on",
                "commercial_attribution": "on",
                "ai_training": "prohibited",
                "genai_training": "prohibited",
                "ai_model_scope": "model",
                "territory": "worldwide",
            },
            expect=(302,),
        )
        page = self.get(f"/works/{work_id}/").text
        return int(re.findall(r"/offers/(\d+)/edit", page)[-1])  # the owner sees Edit, not Buy

    def buy(self, offer_id: int, w3) -> str:
        """Quote, pay from the wallet on the chain, report the hash; returns the quote id."""
        response = self.request(
            "POST",
            f"/offers/{offer_id}/quote",
            data={"csrfmiddlewaretoken": self.csrf(), "uses": "licence"},
            expect=(302,),
        )
        quote_id = re.search(r"/quotes/(0x[0-9a-f]{64})/", response.headers["Location"]).group(1)
        tx = self.get(f"/quotes/{quote_id}/tx", expect=(200,)).json()["tx"]
        signed = self.account.sign_transaction(
            {
                "to": tx["to"],
                "data": tx["data"],
                "value": int(tx["value"], 16),
                "chainId": int(tx["chainId"], 16),
                "nonce": w3.eth.get_transaction_count(self.account.address, "pending"),
                "gas": 600_000,
                "maxFeePerGas": 2 * w3.eth.get_block("latest")["baseFeePerGas"] + 10**9,
                "maxPriorityFeePerGas": 10**9,
            }
        )
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction).to_0x_hex()
        self.request("POST", f"/quotes/{quote_id}/submitted", json={"txHash": tx_hash}, expect=(200,))
        return quote_id

    def audit(self, name: str, files: list[tuple[str, bytes]]) -> str:
        response = self.request(
            "POST",
            "/audits/",
            data={"csrfmiddlewaretoken": self.csrf(), "name": name, "sample": "100"},
            files=[("files", (n, d, "application/octet-stream")) for n, d in files],
            expect=(302,),
        )
        return re.search(r"/audits/([0-9a-f-]{36})/", response.headers["Location"]).group(1)

    def browse(self, work_id: int | None = None) -> None:
        for path in ("/", "/catalogue", "/dashboard/", "/earnings/", "/notifications/", "/verify"):
            self.get(path, expect=(200,))
        if work_id:
            self.get(f"/works/{work_id}/", expect=(200,))


def shard_with(data: bytes, key: str = "copy", filler: list[bytes] = ()) -> bytes:
    """An img2dataset shard holding `data` (and its json), after any `filler` images."""
    buffer = io.BytesIO()
    items = [(f"f{i}", image) for i, image in enumerate(filler)] + [(key, data)]
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for item, image in items:
            for name, content in (
                (f"{item}.jpg", image),
                (f"{item}.json", json.dumps({"key": item}).encode()),
            ):
                info = tarfile.TarInfo(name)
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


RUNNING_PART = r"""
import sys, time
from audits.models import AuditPart
print("watching", flush=True)
part = None
for _ in range(1200):
    part = AuditPart.objects.filter(
        status="running", audit__name="{name}", input__name__endswith=".tar"
    ).first()
    if part:
        break
    time.sleep(0.05)
print(part.worker if part else "none", flush=True)
"""


class PartWatch:
    """Watches, from a process of the stack's own, for the shard part (.tar) of the audit named
    `name` to start running; started (and polling) before the audit is sent, so even a part of a
    few seconds is seen while it runs. `holder()` is the worker holding it ("host:pid"), or "none"."""

    def __init__(self, env: dict, name: str):
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", RUNNING_PART.replace("{name}", name)],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        seen = []
        for line in self.process.stdout:  # Django may log a line or two before the script runs
            seen.append(line.strip())
            if line.strip() == "watching":
                break
        else:
            error = self.process.stderr.read()[-3000:]
            raise AssertionError(f"the watcher did not start: {seen[-5:]} {error}")

    def holder(self) -> str:
        out, err = self.process.communicate(timeout=120)
        assert self.process.returncode == 0, err[-3000:]
        return out.strip().splitlines()[-1]


def fund(w3, address: str, eth: int = 100) -> None:
    w3.provider.make_request("anvil_setBalance", [address, hex(eth * 10**18)])


def pids_matching(needle: str) -> list[int]:
    """Processes whose command line contains `needle` (this test's own folder names)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if needle in cmdline and int(entry.name) != os.getpid():
            found.append(int(entry.name))
    return found


def kill_group(pid: int) -> None:
    """SIGKILL a process and everything in its process group (a Celery worker and its pool)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(os.getpgid(pid), signal.SIGKILL)


def manage(env: dict, code: str, timeout: int = 300) -> str:
    """Run Python in `manage.py shell` with the stack's settings; its last line of output."""
    run = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout.strip().splitlines()[-1]


# The stack's own view of what happened, read from its database and chain (run by `manage`).
SUMMARY = r"""
import json
from django.db.models import Count, Sum
from audits.models import Audit, AuditPart
from licensing.models import Licence, Quote
from core.chain.models import WalletTransaction
from core.chain.client import get_web3
from core.chain.contracts import REGISTRY, contract
from core.models import Lease
from royalties.models import ReconciliationRun
from works.models import AnchorBatch, Registration
w3 = get_web3()
registry = contract(w3=w3, name=REGISTRY)
anchored = registry.events.RootAnchored().get_logs(from_block=0)
roots = [e["args"]["root"].hex() for e in anchored]
signed = Registration.objects.exclude(status__in=["awaiting_signature", "held", "rejected"])
last = ReconciliationRun.objects.filter(checked__gt=0).order_by("-pk").first()
purchases = WalletTransaction.objects.filter(kind="purchase")
in_flight = purchases.filter(status__in=["submitted", "mined"]).values("subject")
print(json.dumps({
    "registrations_signed": signed.count(),
    "registrations_confirmed": signed.filter(status="confirmed").count(),
    "batches": AnchorBatch.objects.count(),
    "batches_confirmed": AnchorBatch.objects.filter(status="confirmed").count(),
    "anchor_events": len(roots),
    "roots_anchored_twice": len(roots) - len(set(roots)),
    "quotes_paid": WalletTransaction.objects.filter(kind="purchase").exclude(status="reverted")
    .values("subject").distinct().count(),
    "licences": Licence.objects.count(),
    "quotes_paid_without_licence": Quote.objects.filter(licence__isnull=True, quote_id__in=in_flight).count(),
    "audits": Audit.objects.count(),
    "audits_done": Audit.objects.filter(status="done").count(),
    "audit_parts_retried": AuditPart.objects.filter(attempts__gt=1).count(),
    "lease_takeovers": Lease.objects.aggregate(n=Sum("times_taken_over"))["n"] or 0,
    "reconciled": bool(last and last.ok),
    "reconciliation_mismatches": len(last.mismatches) if last else None,
}))
"""

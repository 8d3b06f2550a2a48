"""Shared fixtures: personas with real wallets, SIWE helpers, chains, services, the browser."""

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

# Playwright's sync API runs an event loop in the test thread; Django must allow ORM calls there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def require_service(available: bool, what: str) -> None:
    """Skip on a laptop without the service; fail in CI, where every service must be up."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (REQUIRE_SERVICES=1) but is not available")
    pytest.skip(f"{what} is not available")


@pytest.fixture
def postgres(db):
    """Skip on SQLite locally; fail in CI (REQUIRE_SERVICES=1) when the database is not PostgreSQL."""
    from django.db import connection

    require_service(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    return connection


# ---------------------------------------------------------------- personas


@dataclass
class Persona:
    name: str
    account: object  # eth_account LocalAccount
    user: object | None = None

    @property
    def address(self) -> str:
        return self.account.address


def _persona(name, django_user_model):
    from allauth.socialaccount.models import SocialAccount

    account = Account.create()
    user = django_user_model.objects.create(username=account.address)
    SocialAccount.objects.create(user=user, provider="ethereum", uid=account.address)
    return Persona(name=name, account=account, user=user)


@pytest.fixture
def creator(db, django_user_model):
    return _persona("creator", django_user_model)


@pytest.fixture
def co_creator(db, django_user_model):
    return _persona("co-creator", django_user_model)


@pytest.fixture
def buyer(db, django_user_model):
    return _persona("buyer", django_user_model)


@pytest.fixture
def upstream_creator(db, django_user_model):
    return _persona("upstream creator", django_user_model)


@pytest.fixture
def outsider(db, django_user_model):
    return _persona("outsider", django_user_model)


@pytest.fixture
def ai_company(db, django_user_model):
    return _persona("ai-company", django_user_model)


@pytest.fixture
def ai_member(db, django_user_model):
    return _persona("ai-member", django_user_model)


@pytest.fixture
def rival(db, django_user_model):
    """The admin of another AI company."""
    return _persona("rival", django_user_model)


@pytest.fixture
def org(ai_company, ai_member):
    """An AI company: `ai_company` is its admin and pays from their wallet; `ai_member` a member."""
    from orgs import services
    from orgs.models import Membership

    organisation = services.org_create(
        name="Acme AI", user=ai_company.user, wallet_address=ai_company.address
    )
    Membership.objects.create(org=organisation, user=ai_member.user, role=Membership.Role.MEMBER)
    return organisation


@pytest.fixture
def rival_org(rival):
    from orgs import services

    return services.org_create(name="Rival Labs", user=rival.user, wallet_address=rival.address)


@pytest.fixture
def api_key(org, ai_company):
    """api_key(*scopes, org=..., rate=...) -> the whole key, for `Authorization: Bearer`."""
    from orgs import services

    def make(*scopes, organisation=None, rate=1000, by=None):
        organisation = organisation or org
        by = by or organisation.memberships.filter(role="admin").first().user
        _, key = services.api_key_create(
            org=organisation,
            by=by,
            name="test",
            scopes=list(scopes or ("read", "license", "report")),
            rate_per_minute=rate,
        )
        return key

    return make


@pytest.fixture
def wallet():
    """A fresh key that has never signed in."""
    return Account.create()


# ---------------------------------------------------------------- SIWE helpers


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def siwe_message(
    *,
    address: str,
    nonce: str,
    domain: str = "testserver",
    uri: str = "http://testserver",
    chain_id: int = 31337,
    issued_at: datetime | str | None = None,
    expiration_time: datetime | str | None = None,
    not_before: datetime | str | None = None,
    scheme: str | None = None,
    statement: str = "Sign in to the Creator IP Portal.",
    version: str = "1",
) -> str:
    issued_at = issued_at or datetime.now(UTC)
    header = f"{domain} wants you to sign in with your Ethereum account:"
    if scheme:
        header = f"{scheme}://{header}"
    lines = [
        header,
        address,
        "",
        statement,
        "",
        f"URI: {uri}",
        f"Version: {version}",
        f"Chain ID: {chain_id}",
        f"Nonce: {nonce}",
        f"Issued At: {issued_at if isinstance(issued_at, str) else iso(issued_at)}",
    ]
    if expiration_time:
        value = expiration_time if isinstance(expiration_time, str) else iso(expiration_time)
        lines.append(f"Expiration Time: {value}")
    if not_before:
        value = not_before if isinstance(not_before, str) else iso(not_before)
        lines.append(f"Not Before: {value}")
    return "\n".join(lines)


def personal_sign(account, message: str) -> str:
    return "0x" + account.sign_message(encode_defunct(text=message)).signature.hex().removeprefix("0x")


@pytest.fixture
def siwe():
    """Helpers to ask for a nonce and sign in through the real endpoints."""

    class Siwe:
        message = staticmethod(siwe_message)
        sign = staticmethod(personal_sign)

        @staticmethod
        def nonce(client) -> str:
            response = client.get("/auth/siwe/nonce")
            assert response.status_code == 200, response.content
            return response.json()["nonce"]

        @staticmethod
        def verify(client, message, signature, **extra):
            return client.post(
                "/auth/siwe/verify",
                data={"message": message, "signature": signature},
                content_type="application/json",
                **extra,
            )

        @classmethod
        def sign_in(cls, client, account):
            message = siwe_message(address=account.address, nonce=cls.nonce(client))
            response = cls.verify(client, message, personal_sign(account, message))
            assert response.status_code == 200, response.content
            return response

    return Siwe


# ---------------------------------------------------------------- chains


@pytest.fixture(scope="session")
def anvil_url(tmp_path_factory):
    """A real anvil node for integration tests, one per test session."""
    from core.chain.anvil import AnvilNotFound, anvil_start, anvil_stop, free_port

    try:
        port = free_port()
        process = anvil_start(port=port, log_path=tmp_path_factory.mktemp("anvil") / "anvil.log")
    except AnvilNotFound as exc:
        pytest.fail(str(exc))
    yield f"http://127.0.0.1:{port}"
    anvil_stop(process)


# ---------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    require_service(shutil.which(CHROMIUM) is not None or os.path.exists(CHROMIUM), "Debian chromium")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters live in the cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield


def minutes(n):
    return timedelta(minutes=n)


# ---------------------------------------------------------------- a wallet inside the browser

INJECTED_WALLET_JS = """
(() => {
  const call = async (fn, ...args) => {
    const reply = await window[fn](...args);
    if (reply && reply.error) {
      const err = new Error(reply.error.message);
      err.code = reply.error.code;
      throw err;
    }
    return reply.result;
  };
  window.ethereum = {
    isPortalTestWallet: true,
    request: async ({ method, params }) => {
      switch (method) {
        case "eth_requestAccounts":
        case "eth_accounts": return call("__walletAccounts");
        case "eth_chainId": return call("__walletChainId");
        case "personal_sign": return call("__walletPersonalSign", params[0], params[1]);
        case "eth_signTypedData_v4": return call("__walletSignTypedData", params[0], params[1]);
        case "eth_sendTransaction": return call("__walletSendTransaction", params[0]);
        case "wallet_switchEthereumChain": return call("__walletSwitchChain", params[0]);
        case "wallet_addEthereumChain": return call("__walletAddChain", params[0]);
        default: {
          const err = new Error("Unsupported method " + method);
          err.code = 4200;
          throw err;
        }
      }
    },
    on: () => {},
    removeListener: () => {},
  };
})();
"""

USER_REJECTED = {"error": {"code": 4001, "message": "User rejected the request."}}


class BrowserWallet:
    """An EIP-1193 wallet injected into a Playwright page that signs with eth-account in Python.

    Like a real wallet it is on one network at a time (`chain_id`) and knows a list of networks
    (`known_chains`): switching to an unknown one fails with 4902 until it is added (EIP-3085),
    which switches to it too. `requests` records every method asked, in order."""

    def __init__(self, page, account, chain_id=31337):
        self.page = page
        self.account = account
        self.chain_id = chain_id
        self.known_chains = {1, chain_id}
        self.added = []
        self.requests = []
        self.reject_signatures = False
        self.reject_connect = False
        self.reject_switch = False
        self.signed = []
        page.expose_function("__walletAccounts", self._accounts)
        page.expose_function("__walletChainId", lambda: {"result": hex(self.chain_id)})
        page.expose_function("__walletSwitchChain", self._switch_chain)
        page.expose_function("__walletAddChain", self._add_chain)
        page.expose_function("__walletPersonalSign", self._personal_sign)
        page.expose_function("__walletSignTypedData", self._sign_typed_data)
        page.expose_function("__walletSendTransaction", self._send_transaction)
        self.sent = []
        self.w3 = None
        page.add_init_script(INJECTED_WALLET_JS)

    def _switch_chain(self, params):
        self.requests.append("wallet_switchEthereumChain")
        if self.reject_switch:
            return USER_REJECTED
        wanted = int(params["chainId"], 16)
        if wanted not in self.known_chains:
            return {"error": {"code": 4902, "message": f"Unrecognized chain ID {params['chainId']}."}}
        self.chain_id = wanted
        return {"result": None}

    def _add_chain(self, params):
        self.requests.append("wallet_addEthereumChain")
        if self.reject_switch:
            return USER_REJECTED
        self.added.append(params)
        self.known_chains.add(int(params["chainId"], 16))
        self.chain_id = int(params["chainId"], 16)
        return {"result": None}

    def _accounts(self):
        if self.reject_connect:
            return USER_REJECTED
        return {"result": [self.account.address.lower()]}

    def _personal_sign(self, data_hex, address):
        if self.reject_signatures:
            return USER_REJECTED
        if address.lower() != self.account.address.lower():
            return {"error": {"code": 4100, "message": "Unknown account"}}
        text = bytes.fromhex(data_hex.removeprefix("0x")).decode("utf-8")
        self.requests.append("personal_sign")
        self.signed.append(text)
        return {"result": personal_sign(self.account, text)}

    def _sign_typed_data(self, address, payload):
        import json

        from eth_account.messages import encode_typed_data

        if self.reject_signatures:
            return USER_REJECTED
        if address.lower() != self.account.address.lower():
            return {"error": {"code": 4100, "message": "Unknown account"}}
        typed = json.loads(payload)
        if int(typed["domain"].get("chainId", self.chain_id)) != self.chain_id:  # as MetaMask refuses
            return {"error": {"code": -32603, "message": "Provided chainId does not match the active chain"}}
        self.requests.append("eth_signTypedData_v4")
        self.signed.append(typed)
        signature = self.account.sign_message(encode_typed_data(full_message=typed)).signature
        return {"result": "0x" + signature.hex().removeprefix("0x")}

    def _send_transaction(self, tx):
        """Sign and broadcast like a wallet would, against `self.w3` (set by the test)."""
        if self.reject_signatures:
            return USER_REJECTED
        if int(tx.get("chainId", hex(self.chain_id)), 16) != self.chain_id:
            return {"error": {"code": -32603, "message": "the transaction is for another chain"}}
        self.requests.append("eth_sendTransaction")
        w3 = self.w3
        if self.chain_id != w3.eth.chain_id:  # a real wallet would broadcast it on another network
            return {"error": {"code": -32603, "message": f"this wallet is on chain {self.chain_id}"}}
        base = w3.eth.get_block("latest")["baseFeePerGas"]
        payload = {
            "chainId": w3.eth.chain_id,
            "nonce": w3.eth.get_transaction_count(self.account.address, "pending"),
            "to": tx["to"],
            "data": tx.get("data", "0x"),
            "value": int(tx.get("value", "0x0"), 16),
            "gas": 600_000,
            "maxFeePerGas": 2 * base + 10**9,
            "maxPriorityFeePerGas": 10**9,
        }
        tx_hash = w3.eth.send_raw_transaction(self.account.sign_transaction(payload).raw_transaction)
        self.sent.append(tx_hash)
        return {"result": tx_hash.to_0x_hex()}


@pytest.fixture
def browser_wallet(page):
    return BrowserWallet(page, Account.create())


# ---------------------------------------------------------------- images and the registry


def make_image(*, seed: int = 1, size=(640, 480), fmt: str = "JPEG", quality: int = 90, exif=None) -> bytes:
    """A deterministic picture with structure (blobs on a gradient), so PDQ has something to see."""
    import io

    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    rng = np.random.default_rng(seed)
    width, height = size
    x = np.linspace(0, 1, width)[None, :]
    y = np.linspace(0, 1, height)[:, None]
    base = np.stack([x * 255 * np.ones_like(y), y * 255 * np.ones_like(x), (x * y) * 255], axis=-1)
    image = Image.fromarray(base.astype("uint8"), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = rng.integers(0, width), rng.integers(0, height)
        r = int(rng.integers(min(size) // 12, min(size) // 3))
        draw.ellipse([x0 - r, y0 - r, x0 + r, y0 + r], fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
    image = image.filter(ImageFilter.GaussianBlur(2))
    buffer = io.BytesIO()
    kwargs = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    if exif is not None:
        kwargs["exif"] = exif
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def upload_file(data: bytes, name: str = "art.jpg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


@pytest.fixture
def anvil_factory(tmp_path):
    """Start extra anvil nodes (e.g. with mining off) for fault tests; all stopped afterwards."""
    from core.chain.anvil import anvil_start, anvil_stop, free_port

    started = []

    def start(*extra_args, chain_id=31337):
        port = free_port()
        started.append(
            anvil_start(
                port=port,
                chain_id=chain_id,
                extra_args=list(extra_args),
                log_path=tmp_path / f"anvil-{port}.log",
            )
        )
        return f"http://127.0.0.1:{port}"

    yield start
    for process in started:
        anvil_stop(process)


# The shared anvil's state right after the contracts were deployed, once per session: each test
# that takes `chain` starts from it (evm_revert), so no test sees another's transactions and the
# contracts are not deployed again. Keyed by the keys the contracts trust, so a test that sets
# other keys gets contracts of its own (and becomes the new starting point).
_CHAIN_START: dict[str, dict] = {}


def _contracts_start_key():
    from core.chain.contracts import MARKET, REGISTRY, bytecode_hash, constructor_args

    return tuple((name, bytecode_hash(name), tuple(constructor_args(name))) for name in (REGISTRY, MARKET))


def _chain_from_start(w3, url) -> bool:
    from core.chain.models import ContractDeployment

    start = _CHAIN_START.get(url)
    if start is None or start["key"] != _contracts_start_key():
        return False
    if not w3.provider.make_request("evm_revert", [start["snapshot"]]).get("result"):
        return False
    start["snapshot"] = w3.provider.make_request("evm_snapshot", [])["result"]  # a revert uses it up
    w3.provider.make_request("evm_mine", [])  # the newest block carries today's time, not the snapshot's
    ContractDeployment.objects.bulk_create(ContractDeployment(**row) for row in start["rows"])
    return True


@pytest.fixture
def chain(anvil_url, settings, transactional_db):
    """The shared anvil, wired into settings, at the state just after the contracts were deployed."""
    from core.chain.client import get_web3
    from core.chain.contracts import contracts_ensure_deployed
    from core.chain.models import ContractDeployment

    settings.CHAIN_RPC_URL = anvil_url
    settings.CHAIN_CONFIRMATIONS = 2
    settings.PROVENANCE_REGISTRY_ADDRESS = ""
    w3 = get_web3()
    if not _chain_from_start(w3, anvil_url):
        contracts_ensure_deployed(w3=w3)
        _CHAIN_START[anvil_url] = {
            "key": _contracts_start_key(),
            "rows": list(
                ContractDeployment.objects.filter(chain_id=w3.eth.chain_id).values(
                    "chain_id", "name", "address", "tx_hash", "block_number", "bytecode_hash"
                )
            ),
            "snapshot": w3.provider.make_request("evm_snapshot", [])["result"],
        }
    return w3


def register_work(persona, *, seed, w3, title=None, image=None):
    """Upload a picture as `persona` and sign its registration with their wallet."""
    from core.chain.eip712 import typed_data_sign
    from works import services

    work = services.work_upload(
        user=persona.user,
        creator_address=persona.address,
        file=upload_file(image or make_image(seed=seed)),
        title=title or f"Work {seed}",
    )
    typed = services.registration_typed_data(registration=work.registration, w3=w3)
    services.registration_sign(
        registration=work.registration, signature=typed_data_sign(typed, persona.account), w3=w3
    )
    work.registration.refresh_from_db()
    return work


@pytest.fixture
def register(chain):
    """register(persona, seed=..., title=...): a signed (pending) registration on the test chain."""

    def _register(persona, *, seed, title=None, w3=None, image=None):
        return register_work(persona, seed=seed, w3=w3 or chain, title=title, image=image)

    return _register


@pytest.fixture
def draft(db, creator):
    """draft(seed=..., persona=...): an uploaded work whose registration nobody signed."""
    from works import services

    def _draft(*, seed, persona=None, title=None):
        persona = persona or creator
        return services.work_upload(
            user=persona.user,
            creator_address=persona.address,
            file=upload_file(make_image(seed=seed)),
            title=title or f"Draft {seed}",
        )

    return _draft


@pytest.fixture
def moderator(db, django_user_model):
    """Staff with the moderation permission (not a superuser)."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user(
        "moderator", "mod@example.org", "x-long-password-1", is_staff=True
    )
    user.user_permissions.add(
        Permission.objects.get(codename="moderate", content_type__app_label="works"),
        *Permission.objects.filter(codename__startswith="view_"),
        *Permission.objects.filter(codename="change_registration"),
    )
    return django_user_model.objects.get(pk=user.pk)


@pytest.fixture
def private_chain(anvil_factory, settings, transactional_db):
    """A fresh anvil of this test's own (its clock can be moved), contracts deployed, wired in."""
    from core.chain.client import get_web3
    from core.chain.contracts import contracts_ensure_deployed

    settings.CHAIN_RPC_URL = anvil_factory()
    settings.CHAIN_CONFIRMATIONS = 2
    w3 = get_web3()
    contracts_ensure_deployed(w3=w3)
    return w3


@pytest.fixture(autouse=True)
def _tasks_run_inline():
    """Tasks a request queues (an audit) run inline in tests, unless a test starts real workers
    (audits/tests/conftest.py `celery_workers` points the app at Redis instead)."""
    from portal.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _fresh_chain_clock():
    """Each test measures its chain's clock afresh (some move it)."""
    from core.chain.clock import chain_clock_forget

    chain_clock_forget()
    yield


@pytest.fixture(autouse=True)
def _fresh_fingerprint_index():
    from works.fingerprint_index import _index

    _index.reset()
    yield
    _index.reset()


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.AUDIT_ROOT = tmp_path / "audits"
    from django.utils.functional import empty

    from works.models import private_storage

    private_storage._wrapped = empty  # re-read PRIVATE_MEDIA_ROOT on next use
    yield
    private_storage._wrapped = empty

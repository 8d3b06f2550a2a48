"""Settings for the creator IP portal.

One module, driven by the environment (django-environ). Every variable has an embedded default
so that `make run` works on a fresh machine; production switches by setting variables, never by
loading another file.
"""

import re
import warnings
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from portal.logs import logging_config

# siwe's grammar redefines core ABNF rules (harmless; abnf 2.8.3 warns about it), and web3 7
# still imports websockets.legacy. Neither is ours to fix; keep them out of every log.
warnings.filterwarnings("ignore", message=r"rule '.*' redefines")
warnings.filterwarnings("ignore", message=r".*websockets.legacy is deprecated.*")

env = environ.Env()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str(
    "SECRET_KEY",
    default="django-insecure-dev-only-key-set-SECRET_KEY-in-production-0123456789",
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_prometheus",
    "ninja",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "axes",
    "core",
    "core.chain",
    "portal",
    "portal.siwe",
    "orgs",
    "works",
    "licensing",
    "training",
    "royalties",
    "audits",
    "disputes",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "portal.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the Celery worker read while the other writes.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault(
        # A 128 MiB page cache: the ledger's indexes stay in memory while millions of lines post.
        # Reads through a memory map (up to 4 GiB of the file): a page already in the OS cache is
        # read in place instead of copied into SQLite's cache, which made a 10,000-item manifest
        # check's query (four index probes per match) 55 -> 35 ms over 1M works.
        "init_command",
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-131072; "
        "PRAGMA mmap_size=4294967296;",
    )
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="portal"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "portal.staticfinders.NpmFinder",  # Chart.js from node_modules (npm ci), no CDN
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            # Hashed, compressed names once collectstatic has run (make run, production);
            # plain names served by the finders on a checkout that never collected (tests).
            default="whitenoise.storage.CompressedManifestStaticFilesStorage"
            if (STATIC_ROOT / "staticfiles.json").exists()
            else "django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
# Without collectstatic (tests, a fresh checkout) fall back to unhashed names served by finders.
WHITENOISE_MANIFEST_STRICT = False
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"

# Security: production values come from the environment (see README).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# allauth: accounts, sessions, logout and optional e-mail; wallet sign-in is the only way in.
SITE_ID = 1
LOGIN_URL = "siwe:signin"
LOGIN_REDIRECT_URL = "portal:dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "portal:home"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_ADAPTER = "portal.siwe.adapter.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "portal.siwe.adapter.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_REQUIRED = False
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_QUERY_EMAIL = False
SOCIALACCOUNT_LOGIN_ON_GET = False

# Sign-In with Ethereum (EIP-4361).
CHAIN_RPC_URL = env.str("CHAIN_RPC_URL", default="http://127.0.0.1:8545")
CHAIN_ID = env.int("CHAIN_ID", default=31337)
# What a browser wallet is asked to add when it does not know the portal's chain
# (wallet_addEthereumChain): its name, an RPC URL the *user's* browser can reach, the currency.
CHAIN_NAME = env.str("CHAIN_NAME", default="Creator IP Portal (local)")
CHAIN_WALLET_RPC_URL = env.str("CHAIN_WALLET_RPC_URL", default=CHAIN_RPC_URL)
CHAIN_EXPLORER_URL = env.str("CHAIN_EXPLORER_URL", default="")
SIWE_ALLOWED_CHAIN_IDS = env.list("SIWE_ALLOWED_CHAIN_IDS", cast=int, default=[CHAIN_ID])
SIWE_NONCE_TTL_SECONDS = env.int("SIWE_NONCE_TTL_SECONDS", default=300)
SIWE_MAX_AGE_SECONDS = env.int("SIWE_MAX_AGE_SECONDS", default=300)
SIWE_CLOCK_SKEW_SECONDS = env.int("SIWE_CLOCK_SKEW_SECONDS", default=30)
SIWE_MAX_BODY_BYTES = env.int("SIWE_MAX_BODY_BYTES", default=8192)
SIWE_NONCE_RATE = env.str("SIWE_NONCE_RATE", default="30/m")
SIWE_VERIFY_RATE = env.str("SIWE_VERIFY_RATE", default="20/m")
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_IP_META_KEY = env.str("RATELIMIT_IP_META_KEY", default="REMOTE_ADDR")

# django-axes: repeated failed wallet sign-ins lock the client out for a while.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = env.str("AXES_HANDLER", default="axes.handlers.database.AxesDatabaseHandler")
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_VERBOSE = False

# Celery: JSON only, late acks, a lost worker re-queues its task, bounded run time.
# safefs:// is kombu's file-system transport made safe against half-written messages
# (portal/broker.py); redis://… or amqp://… when the portal outgrows one machine.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="safefs://localhost//")
CELERY_BROKER_FOLDER = VAR_DIR / "celery" / "broker"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(CELERY_BROKER_FOLDER),
        "data_folder_out": str(CELERY_BROKER_FOLDER),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith(("filesystem", "safefs"))
    else {}
)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=f"file://{VAR_DIR / 'celery' / 'results'}")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE: dict = {}
# How long a beat tick holds its lease: a tick killed mid-run is taken over after this.
TICK_LEASE_SECONDS = env.int("TICK_LEASE_SECONDS", default=60)

# One line per request and per task with the ids they touched (portal/logs.py); JSON lines with
# LOG_FORMAT=json, for a log store to search.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
LOGGING = logging_config(json_lines=LOG_FORMAT == "json", level=env.str("LOG_LEVEL", default="INFO"))

# Folders the embedded defaults write to.
for _folder in (
    VAR_DIR,
    MEDIA_ROOT,
    STATIC_ROOT,
    CELERY_BROKER_FOLDER,
    VAR_DIR / "celery" / "control",
    VAR_DIR / "celery" / "results",
):
    _folder.mkdir(parents=True, exist_ok=True)

CSRF_FAILURE_VIEW = "portal.views.csrf_failure"

# E-mail: printed to the console unless an SMTP server is configured (EMAIL_URL, e.g.
# smtp://user:pass@host:587); notifications also live in the portal.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
# An optional estimate beside amounts on screen ("≈ 24.69 EUR"), at a rate the operator sets and
# updates: a label only, never used for a price, a payment or a file.
FIAT_ESTIMATE_RATE = env.str("FIAT_ESTIMATE_RATE", default="")
FIAT_ESTIMATE_CURRENCY = env.str("FIAT_ESTIMATE_CURRENCY", default="EUR")
if FIAT_ESTIMATE_RATE and not re.fullmatch(r"[0-9]+(\.[0-9]{1,6})?", FIAT_ESTIMATE_RATE):
    raise ImproperlyConfigured("FIAT_ESTIMATE_RATE is a plain decimal number, like 2000.50")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Creator IP Portal <noreply@localhost>")
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
AXES_LOCKOUT_CALLABLE = "portal.siwe.views.lockout_response"

# The platform's sending key. The default is anvil's first development account (a public test
# key with no real funds): set CHAIN_SENDER_PRIVATE_KEY for any other chain.
CHAIN_SENDER_PRIVATE_KEY = env.str(
    "CHAIN_SENDER_PRIVATE_KEY",
    default="0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
)
CHAIN_CONFIRMATIONS = env.int("CHAIN_CONFIRMATIONS", default=2)
ANVIL_BLOCK_TIME = env.float("ANVIL_BLOCK_TIME", default=1.0)  # the local chain of `make run`
CHAIN_STUCK_AFTER_SECONDS = env.int("CHAIN_STUCK_AFTER_SECONDS", default=120)
PROVENANCE_REGISTRY_ADDRESS = env.str("PROVENANCE_REGISTRY_ADDRESS", default="")
# After an upgrade from the version-1 contracts: where they stay (indexed, withdrawable, verifiable).
PROVENANCE_REGISTRY_V1_ADDRESS = env.str("PROVENANCE_REGISTRY_V1_ADDRESS", default="")

# Works: upload limits and storage.
WORKS_MAX_UPLOAD_BYTES = env.int("WORKS_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)
WORKS_MAX_MEGAPIXELS = env.int("WORKS_MAX_MEGAPIXELS", default=100)
WORKS_PDQ_THRESHOLD = env.int("WORKS_PDQ_THRESHOLD", default=31)
# The matcher (works.matching, for registration holds and dataset audits): works with any window
# within WORKS_CANDIDATE_RADIUS bits of any of a picture's hashes are candidates; beyond
# WORKS_PDQ_THRESHOLD a candidate is a copy only if at least WORKS_VERIFY_INLIERS keypoints agree
# over most of both pictures.
WORKS_CANDIDATE_RADIUS = env.int("WORKS_CANDIDATE_RADIUS", default=80)
WORKS_VERIFY_INLIERS = env.int("WORKS_VERIFY_INLIERS", default=16)
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private")))
PRIVATE_MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
DATA_UPLOAD_MAX_NUMBER_FILES = 500  # an audit may upload many shards; a work upload takes one file
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
ANCHOR_BATCH_MAX = env.int("ANCHOR_BATCH_MAX", default=256)
# How many files of a portfolio the browser sends at once (static/js/portfolio.js).
PORTFOLIO_UPLOADS_AT_ONCE = env.int("PORTFOLIO_UPLOADS_AT_ONCE", default=2)
ANCHOR_BATCH_SECONDS = env.int("ANCHOR_BATCH_SECONDS", default=30)
ANCHOR_TICK_SECONDS = env.float("ANCHOR_TICK_SECONDS", default=5.0)
CELERY_BEAT_SCHEDULE["anchor-tick"] = {"task": "works.anchor_tick", "schedule": ANCHOR_TICK_SECONDS}

# Licensing. The platform signs quotes and certificates with PLATFORM_SIGNING_KEY (default:
# anvil's second development account, a public test key); its fee goes to PLATFORM_FEE_ADDRESS.
PLATFORM_SIGNING_KEY = env.str(
    "PLATFORM_SIGNING_KEY",
    default="0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
)
PLATFORM_FEE_ADDRESS = env.str("PLATFORM_FEE_ADDRESS", default="")
# Signing addresses of keys rotated out that no market event records (e.g. version 1's, whose
# signer was fixed): certificates and revocations they signed stay verifiable.
PLATFORM_PREVIOUS_SIGNERS = env.list("PLATFORM_PREVIOUS_SIGNERS", default=[])
PLATFORM_FEE_BPS = env.int("PLATFORM_FEE_BPS", default=500)
# Contracts version 2: a cold owner (an address only; its key never sits on a server) holds the
# admin role and rotates the keys; a guardian may pause; a moderation key signs the decisions
# that send escrow to someone its leaf does not name. Defaults: anvil's public accounts 9 and 7,
# for the local chain only (portal.E001 refuses them anywhere else).
CHAIN_OWNER_ADDRESS = env.str("CHAIN_OWNER_ADDRESS", default="0xa0Ee7A142d267C1f36714E4a8F75612F20a79720")
CHAIN_GUARDIAN_ADDRESS = env.str("CHAIN_GUARDIAN_ADDRESS", default="")
CHAIN_OWNER_TRANSFER_DELAY = env.int(
    "CHAIN_OWNER_TRANSFER_DELAY", default=0 if CHAIN_ID in (31337, 1337) else 2 * 24 * 3600
)
MODERATION_SIGNING_KEY = env.str(
    "MODERATION_SIGNING_KEY",
    default="0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
)
LICENSE_MARKET_ADDRESS = env.str("LICENSE_MARKET_ADDRESS", default="")
LICENSE_MARKET_V1_ADDRESS = env.str("LICENSE_MARKET_V1_ADDRESS", default="")
# The dollar stablecoin (an ERC-20 with EIP-3009 and EIP-2612) that offers may be priced in and
# AI fetches are paid with (x402). Empty address on a development chain: the portal deploys a
# test token (contracts/src/testing/TestStablecoin.sol) and gives each anvil account 10,000 of it.
# On a real network: the token's address, and the EIP-712 name and version it signs under.
STABLECOIN_ADDRESS = env.str("STABLECOIN_ADDRESS", default="")
STABLECOIN_NAME = env.str("STABLECOIN_NAME", default="Test USD Coin")
STABLECOIN_VERSION = env.str("STABLECOIN_VERSION", default="1")
STABLECOIN_SYMBOL = env.str("STABLECOIN_SYMBOL", default="tUSDC")
STABLECOIN_DECIMALS = env.int("STABLECOIN_DECIMALS", default=6)
# x402 (AI use paid per fetch): how long a payment authorisation may be valid for, and how long
# a fetch waits for its settlement transaction before answering "not confirmed yet".
X402_MAX_TIMEOUT_SECONDS = env.int("X402_MAX_TIMEOUT_SECONDS", default=300)
X402_SETTLE_SECONDS = env.int("X402_SETTLE_SECONDS", default=30)
QUOTE_TTL_SECONDS = env.int("QUOTE_TTL_SECONDS", default=900)
INDEXER_TICK_SECONDS = env.float("INDEXER_TICK_SECONDS", default=5.0)
CELERY_BEAT_SCHEDULE["index-events"] = {"task": "chain.index_tick", "schedule": INDEXER_TICK_SECONDS}
# /readyz says "not ready" when the event indexer is further behind the chain than this.
READY_INDEXER_MAX_LAG_BLOCKS = env.int("READY_INDEXER_MAX_LAG_BLOCKS", default=50)
# /metrics: Prometheus text for scrapers on loopback/private networks, or with this bearer token.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
CELERY_BEAT_SCHEDULE["chain-sends"] = {"task": "chain.sends_tick", "schedule": INDEXER_TICK_SECONDS}
CELERY_BEAT_SCHEDULE["licensing-tick"] = {"task": "licensing.tick", "schedule": INDEXER_TICK_SECONDS}
RECONCILE_SECONDS = env.float("RECONCILE_SECONDS", default=60.0)
CELERY_BEAT_SCHEDULE["reconcile"] = {"task": "royalties.reconcile", "schedule": RECONCILE_SECONDS}

# The chain-event indexer reads these contracts' logs, and hands each event to the subscribers
# that name it, each through its own delivery row (core/chain/events.py). `undo` reverses a
# handled event whose block a reorg removed.
# Version 1 of the market is indexed too where a portal deployed it before upgrading.
CHAIN_INDEXED_CONTRACTS = ["LicenseMarket", "LicenseMarketV1"]
# What works asks of the apps above it (works/hooks.py): works never imports them.
WORKS_HOOKS = {
    "registration_held": "disputes.flows.filing.dispute_from_hold",
    "works_in_registration_dispute": "disputes.selectors.works_in_registration_dispute",
    "registration_dispute_for": "disputes.selectors.registration_dispute_for",
    "works_escrowed": "disputes.selectors.works_escrowed",
    "in_registration_dispute": "disputes.selectors.in_registration_dispute",
    "held_registration_decide": "disputes.flows.decision.hold_decide",
    "work_page_context": "licensing.pages.work_page_context",
    "work_page_response": "licensing.pages.work_page_response",
    "derivable_parents": "licensing.derivatives.derivable_parents_for",
    "derivation_check": "licensing.derivatives.derivation_check",
    "derivation_links_create": "licensing.derivatives.derivation_links_create",
    "portfolio_signed": "licensing.services.offers_for_portfolio",
    "licence_presets": "licensing.terms.preset_choices",
}

# What licensing's pages show of AI training (licensing/hooks.py): licensing never imports training.
LICENSING_HOOKS = {
    "work_page_context": "training.pages.work_page_context",
    "sales_page_context": "training.pages.sales_page_context",
}

# What organisations' pages show of AI training (orgs/hooks.py): orgs never imports training.
ORGS_HOOKS = {"org_page_context": "training.selectors.org_training"}

# What the ledger asks of licensing (royalties/hooks.py): royalties never imports it.
ROYALTIES_HOOKS = {"sale_for_quote": "licensing.selectors.sale_for_quote"}

CHAIN_SUBSCRIBERS = {
    "licences": {
        "contract": ["LicenseMarket", "LicenseMarketV1"],
        "events": ["LicensePurchased", "TokenLicensePurchased"],
        "handler": "licensing.handlers.on_purchase",
        "undo": "licensing.handlers.on_purchase_orphaned",
    },
    "training": {
        "contract": ["LicenseMarket", "LicenseMarketV1"],
        "events": ["Settled", "TokenSettled"],
        "handler": "training.handlers.on_settled",
        "undo": "training.handlers.on_settled_orphaned",
    },
    "ledger": {
        "contract": ["LicenseMarket", "LicenseMarketV1"],
        "events": [
            "Credited",
            "Withdrawn",
            "Settled",
            "Claimed",
            "EscrowReleased",
            "TokenCredited",
            "TokenWithdrawn",
            "TokenSettled",
        ],
        "handler": "royalties.handlers.on_market_event",
        "undo": "royalties.handlers.on_market_event_orphaned",
    },
    "escrow": {
        "contract": ["LicenseMarket", "LicenseMarketV1"],
        "events": ["EscrowReleased"],
        "handler": "disputes.handlers.on_escrow_released",
        "undo": "disputes.handlers.on_escrow_released_orphaned",
    },
}
C2PA_DIR = Path(env.str("C2PA_DIR", default=str(VAR_DIR / "c2pa")))

# Dataset audits (audits/).
AUDIT_ROOT = Path(env.str("AUDIT_ROOT", default=str(VAR_DIR / "audits")))
AUDIT_UPLOAD_MAX_BYTES = env.int("AUDIT_UPLOAD_MAX_BYTES", default=2 * 1024**3)
AUDIT_MAX_IMAGE_PIXELS = env.int("AUDIT_MAX_IMAGE_PIXELS", default=60_000_000)
AUDIT_MAX_MEMBER_BYTES = env.int("AUDIT_MAX_MEMBER_BYTES", default=64 * 1024**2)
AUDIT_DUCKDB_MEMORY = env.str("AUDIT_DUCKDB_MEMORY", default="512MB")
AUDIT_DUCKDB_THREADS = env.int("AUDIT_DUCKDB_THREADS", default=2)
AUDITS_TICK_SECONDS = env.float("AUDITS_TICK_SECONDS", default=30.0)
CELERY_BEAT_SCHEDULE["audits-tick"] = {"task": "audits.tick", "schedule": AUDITS_TICK_SECONDS}

# Disputes: limits against abuse, and the beat that releases decided escrow.
DISPUTES_OPEN_MAX = env.int("DISPUTES_OPEN_MAX", default=5)  # open disputes one person may file
# The respondent's time to answer before a moderator may decide against them (sooner only when
# they answered, or with a recorded reason why it cannot wait).
DISPUTES_REPLY_DAYS = env.int("DISPUTES_REPLY_DAYS", default=7)
DISPUTE_EVIDENCE_MAX_BYTES = env.int("DISPUTE_EVIDENCE_MAX_BYTES", default=10 * 1024 * 1024)
DISPUTE_EVIDENCE_MAX_FILES = env.int("DISPUTE_EVIDENCE_MAX_FILES", default=10)  # per dispute
DISPUTE_EVIDENCE_TOTAL_BYTES = env.int("DISPUTE_EVIDENCE_TOTAL_BYTES", default=40 * 1024 * 1024)
CELERY_BEAT_SCHEDULE["disputes-tick"] = {"task": "disputes.tick", "schedule": INDEXER_TICK_SECONDS}

# The chain's beat work (indexing, anchoring, sends, escrow, reconciliation) has a queue of its
# own, so an audit of a large dataset never delays a licence: the Procfile's `indexer` process
# consumes it; `make run`'s one worker consumes both queues.
CHAIN_QUEUE = "chain"
CELERY_TASK_ROUTES = {
    name: {"queue": CHAIN_QUEUE}
    for name in (
        "chain.index_tick",
        "chain.sends_tick",
        "works.anchor_tick",
        "licensing.tick",
        "disputes.tick",
        "royalties.reconcile",
    )
}
AUDIT_PART_ROWS = env.int("AUDIT_PART_ROWS", default=4_000_000)
# A running part holds a lease it renews while it works; one whose worker died is re-queued by
# audits.tick once the lease runs out. An audit with pending parts and no activity for
# AUDIT_STALLED_SECONDS lost its queue messages (a broker that forgot them): they are re-queued.
AUDIT_PART_LEASE_SECONDS = env.int("AUDIT_PART_LEASE_SECONDS", default=90)
AUDIT_STALLED_SECONDS = env.int("AUDIT_STALLED_SECONDS", default=120)
# Request bodies read into memory (a 10,000-item manifest check with URLs is several MB); files
# are streamed to disk and limited separately (AUDIT_UPLOAD_MAX_BYTES).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=32 * 1024 * 1024)

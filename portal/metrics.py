"""The portal's own Prometheus metrics, read from the database when /metrics is scraped (beside
django-prometheus's request, database and cache metrics). Each says what an operator watches:

- anchoring backlog and the age of the oldest registration waiting for a batch;
- the event indexer's lag in blocks per contract;
- transactions the portal sent that are not confirmed yet, and the oldest one's age;
- event deliveries that failed and wait for a retry;
- audit parts by state (pending, running);
- reconciliation mismatches in the latest run;
- lease take-overs (a worker presumed dead) since the start.
"""

import logging
import os

from django.db.models import Min, Sum
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from audits.models import AuditPart
from core.chain.models import ChainTransaction, EventDelivery
from core.models import Lease
from portal.health import indexer_lag
from royalties.models import ReconciliationRun
from works.models import Registration

logger = logging.getLogger(__name__)


NAMES = (
    "portal_anchor_backlog",
    "portal_anchor_oldest_waiting_seconds",
    "portal_pending_transactions",
    "portal_pending_transaction_oldest_seconds",
    "portal_event_deliveries_failing",
    "portal_audit_parts",
    "portal_reconciliation_mismatches",
    "portal_lease_takeovers",
    "portal_indexer_lag_blocks",
)


class PortalCollector:
    def describe(self):
        """The names alone (asked when registered, before the database may exist)."""
        return [GaugeMetricFamily(name, name) for name in NAMES]

    def collect(self):
        now = timezone.now()
        waiting = Registration.objects.filter(status=Registration.Status.PENDING, batch__isnull=True)
        oldest = waiting.aggregate(t=Min("signed_at"))["t"]
        yield _gauge(
            "portal_anchor_backlog", "Signed registrations waiting for an anchor batch", waiting.count()
        )
        yield _gauge(
            "portal_anchor_oldest_waiting_seconds",
            "Age of the oldest registration waiting for a batch",
            (now - oldest).total_seconds() if oldest else 0,
        )
        open_tx = ChainTransaction.objects.filter(
            status__in=[
                ChainTransaction.Status.SIGNED,
                ChainTransaction.Status.BROADCAST,
                ChainTransaction.Status.MINED,
            ]
        )
        first = open_tx.aggregate(t=Min("created_at"))["t"]
        yield _gauge(
            "portal_pending_transactions", "Transactions sent and not yet confirmed", open_tx.count()
        )
        yield _gauge(
            "portal_pending_transaction_oldest_seconds",
            "Age of the oldest transaction not yet confirmed",
            (now - first).total_seconds() if first else 0,
        )
        yield _gauge(
            "portal_event_deliveries_failing",
            "Event deliveries that failed and wait for a retry",
            EventDelivery.objects.filter(
                status__in=[EventDelivery.Status.PENDING, EventDelivery.Status.UNDO], attempts__gt=0
            ).count(),
        )
        parts = GaugeMetricFamily("portal_audit_parts", "Audit parts by state", labels=["state"])
        for state in ("pending", "running"):
            parts.add_metric([state], AuditPart.objects.filter(status=state).count())
        yield parts
        last = ReconciliationRun.objects.order_by("-pk").first()
        yield _gauge(
            "portal_reconciliation_mismatches",
            "Mismatches between the ledger and the contract in the latest reconciliation",
            len(last.mismatches) if last else 0,
        )
        yield _gauge(
            "portal_lease_takeovers",
            "Work taken over from a holder presumed dead (since the start)",
            Lease.objects.aggregate(n=Sum("times_taken_over"))["n"] or 0,
        )
        try:
            lag = GaugeMetricFamily(
                "portal_indexer_lag_blocks", "Blocks the indexer is behind", labels=["contract"]
            )
            for name, blocks in indexer_lag().items():
                lag.add_metric([name], blocks)
            yield lag
        except Exception as exc:  # the chain is down: the other metrics still matter
            logger.warning("indexer lag not measured: %s", exc)


def metrics_text() -> bytes:
    """The exposition text. Under gunicorn with PROMETHEUS_MULTIPROC_DIR set, the counters of
    every web process are summed (prometheus_client's multiprocess mode); the portal's gauges are
    read from the database either way."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(PortalCollector())
    else:
        registry = REGISTRY
    return generate_latest(registry)


def _gauge(name, documentation, value):
    return GaugeMetricFamily(name, documentation, value=value)

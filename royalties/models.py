"""Split sheets (who shares a work's revenue) and the double-entry ledger (where every wei went).

The ledger is append-only: entries and lines are never updated or deleted (the model and its
queryset refuse; on PostgreSQL a trigger refuses too); a correction is a reversing entry. Every
entry balances to zero per currency (checked when posting; on PostgreSQL a statement trigger
checks every insert) and carries a unique idempotency key: chain id, tx hash, log index (+ the
event's generation after a reorg), so an event posted twice is posted once.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse

from core.fields import WeiField

BPS = 10_000


class SplitSheet(models.Model):
    """A version of a work's co-creator split. The owner proposes; every listed party accepts by
    signing an EIP-712 `SplitAcceptance` with their wallet; then it replaces the previous
    accepted sheet. Until then the previous accepted sheet applies. Never edited: a change is
    a new version."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "waiting for every party to accept"
        ACCEPTED = "accepted", "in force"
        SUPERSEDED = "superseded", "replaced by a later version"
        WITHDRAWN = "withdrawn", "withdrawn by the owner"
        DECLINED = "declined", "declined by a party"

    work = models.ForeignKey("works.Work", on_delete=models.CASCADE, related_name="split_sheets")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROPOSED, db_index=True)
    owner_address = models.CharField(max_length=42, help_text="the work's creator: takes the remainder")
    sheet_hash = models.CharField(max_length=66, help_text="keccak256 of the canonical sheet")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    first_used_at = models.DateTimeField(null=True, blank=True, help_text="first quote priced with it")

    class Meta:
        ordering = ["work", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["work", "version"], name="one_sheet_per_version"),
            models.UniqueConstraint(
                fields=["work"], condition=models.Q(status="accepted"), name="one_accepted_sheet_per_work"
            ),
        ]

    def __str__(self):
        return f"split sheet v{self.version} of work {self.work_id} ({self.status})"

    def get_absolute_url(self):
        return reverse("royalties:splits", args=[self.work_id])

    @property
    def owner_bps(self) -> int:
        return BPS - sum(p.bps for p in self.parties.all())


class SplitParty(models.Model):
    sheet = models.ForeignKey(SplitSheet, on_delete=models.CASCADE, related_name="parties")
    address = models.CharField(max_length=42)
    role = models.CharField(max_length=60, help_text="e.g. illustrator, colourist")
    bps = models.PositiveIntegerField()
    typed_data = models.JSONField(null=True, blank=True, help_text="the SplitAcceptance as signed")
    signature = models.TextField(blank=True)  # longer than 65 bytes from a smart-contract account
    accepted_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["sheet", "address"], name="one_place_per_party"),
            models.CheckConstraint(condition=models.Q(bps__gt=0, bps__lte=BPS), name="party_bps_in_range"),
        ]

    def __str__(self):
        return f"{self.address} {self.role} {self.bps} bps"


class LedgerAccount(models.Model):
    """One account per (kind, address, currency). Amounts are signed wei: a payee's credited
    balance is the sum of its CREDITED lines, and so on."""

    class Kind(models.TextChoices):
        BUYER_PAID = "buyer_paid", "paid by a buyer into the market"
        CREDITED = "credited", "credited to a payee, withdrawable on LicenseMarket"
        ALLOCATED = "allocated", "allocated to a payee in a settlement, not yet claimed"
        WITHDRAWN = "withdrawn", "withdrawn by a payee to their wallet"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    address = models.CharField(max_length=42, db_index=True)
    currency = models.CharField(max_length=8, default="ETH")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "address", "currency"], name="one_account_per_party"),
        ]

    def __str__(self):
        return f"{self.kind}:{self.address}:{self.currency}"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise LedgerImmutable("ledger rows are never updated; post a reversing entry")

    def delete(self):
        raise LedgerImmutable("ledger rows are never deleted; post a reversing entry")


class LedgerImmutable(Exception):
    pass


class AppendOnly(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise LedgerImmutable("ledger rows are never updated; post a reversing entry")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerImmutable("ledger rows are never deleted; post a reversing entry")


class JournalEntry(AppendOnly):
    class Kind(models.TextChoices):
        SALE = "sale", "a licence sale credited to its payees"
        SETTLEMENT = "settlement", "a settlement allocated to its payees"
        CLAIM = "claim", "an allocation claimed into a balance"
        ESCROW_RELEASE = "escrow_release", "an escrowed allocation released"
        WITHDRAWAL = "withdrawal", "a payee withdrew their balance"
        REVERSAL = "reversal", "reverses an entry (its block was reorganised away)"

    key = models.CharField(max_length=200, unique=True, help_text="idempotency key: chain:tx:log[#gen][:leg]")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    chain_event = models.ForeignKey(
        "chain.ChainEvent", null=True, blank=True, on_delete=models.PROTECT, related_name="journal_entries"
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    tx_hash = models.CharField(max_length=66, blank=True, db_index=True)
    occurred_at = models.DateTimeField(db_index=True, help_text="the block's time")
    memo = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "journal entries"

    def __str__(self):
        return f"{self.kind} {self.key}"


class JournalLine(AppendOnly):
    """One leg of an entry, with what makes it traceable: the work the share comes from, the
    work that was sold, the role, the basis points, the sale's gross and who bought."""

    # No per-row foreign-key constraints: on PostgreSQL the statement trigger that checks each
    # insert's balance checks its references too, set-based (per-row checks cost more than the
    # COPY itself); entries are append-only and accounts with lines cannot be deleted.
    entry = models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, related_name="lines", db_constraint=False
    )
    account = models.ForeignKey(
        LedgerAccount, on_delete=models.PROTECT, related_name="lines", db_index=False, db_constraint=False
    )  # indexed first in ledger_line_feed
    amount = WeiField()
    currency = models.CharField(max_length=8, default="ETH")
    occurred_at = models.DateTimeField()
    earning = models.BooleanField(default=False, help_text="income of the account's party (a sale's share)")
    role = models.CharField(max_length=24, blank=True)
    party_role = models.CharField(max_length=60, blank=True)
    bps = models.PositiveIntegerField(null=True, blank=True)
    # Not indexed: every index slows the posting of millions of lines. Per-work figures come
    # from EarningsWork; a work filter on the feed walks the payee's own index.
    work = models.ForeignKey(
        "works.Work",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    sold_work = models.ForeignKey(
        "works.Work",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    gross = WeiField(null=True, blank=True)
    counterparty = models.CharField(max_length=42, blank=True, help_text="the buyer")
    uses = models.PositiveSmallIntegerField(null=True, blank=True)
    reference = models.CharField(max_length=80, blank=True, help_text="quote id, settlement id:index…")

    class Meta:
        indexes = [
            # A payee's feed: the few lines of theirs that are not earnings (claims, withdrawals)
            # are skipped as the index is walked in order.
            models.Index(fields=["account", "-occurred_at", "-id"], name="ledger_line_feed"),
        ]

    def __str__(self):
        return f"{self.account} {self.amount}"


class EarningsDay(models.Model):
    """Pre-aggregated earnings of one account on one day (UTC), kept by the posting service, so
    totals and charts read a few rows whatever the number of lines. Derived data: rebuilt from
    the lines by `royalties.ledger.earnings_days_rebuild` if ever in doubt."""

    account = models.ForeignKey(LedgerAccount, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    amount = WeiField(default=0)
    lines = models.IntegerField(default=0, help_text="lines net of reversals")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="one_total_per_day")]

    def __str__(self):
        return f"{self.account} {self.day}: {self.amount}"


class EarningsWork(models.Model):
    """Pre-aggregated earnings of one account from one sold work in one role (the works filter,
    per-work totals and each work page's "what it earned, for whom" read these, never the
    lines)."""

    account = models.ForeignKey(LedgerAccount, on_delete=models.CASCADE, related_name="works")
    sold_work = models.ForeignKey("works.Work", on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=24, blank=True)
    party_role = models.CharField(max_length=60, blank=True)
    amount = WeiField(default=0)
    lines = models.IntegerField(default=0, help_text="lines net of reversals")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "sold_work", "role", "party_role"], name="one_total_per_work_and_role"
            )
        ]

    def __str__(self):
        return f"{self.account} {self.sold_work_id}: {self.amount}"


class ReconciliationRun(models.Model):
    """One comparison of the ledger with LicenseMarket at one block. Mismatches are recorded
    with both figures and never corrected here."""

    block_number = models.BigIntegerField()
    ok = models.BooleanField()
    checked = models.PositiveIntegerField(help_text="payee balances compared")
    surplus_wei = WeiField(default=0, help_text="ether above what the ledger owes: forced in, reported")
    mismatches = models.JSONField(default=list)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"reconciliation at block {self.block_number}: {'agree' if self.ok else 'MISMATCH'}"


class Settlement(models.Model):
    """One payment for any number of works, paid in one LicenseMarket.settle transaction.

    The platform signs the Merkle root of the (index, payee, amount) allocations; the chain
    stores it; each payee claims with a proof. `lines` keep the per-work, per-role detail the
    ledger posts when the Settled event is confirmed."""

    class Purpose(models.TextChoices):
        TRAINING_LICENCE = "training_licence", "training licence"
        INVOICE = "invoice", "training-run invoice"

    class Status(models.TextChoices):
        OPEN = "open", "waiting for payment"
        PAID = "paid", "paid"
        EXPIRED = "expired", "expired"

    settlement_id = models.CharField(max_length=66, unique=True)
    org = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="settlements")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    training_purpose = models.CharField(max_length=20, blank=True, help_text="training / generative_training")
    model_name = models.CharField(max_length=200, blank=True)
    buyer_address = models.CharField(max_length=42)
    price_wei = WeiField(help_text="the price in the smallest unit of `currency` (wei for ETH)")
    currency = models.CharField(
        max_length=16, default="ETH", help_text="what it is paid in: ETH, or the stablecoin's symbol"
    )
    root = models.CharField(max_length=66)
    expiry = models.BigIntegerField()
    typed_data = models.JSONField()
    signature = models.CharField(max_length=132)
    market_address = models.CharField(max_length=42)
    chain_id = models.BigIntegerField()
    tree = models.JSONField(help_text="StandardMerkleTree dump of the allocations")
    refused = models.JSONField(default=list, help_text="works refused, with the reason")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True)
    chain_event = models.ForeignKey(
        "chain.ChainEvent", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"settlement {self.settlement_id[:10]}… ({self.status})"


class SettlementLine(models.Model):
    """A payee's share of one work in a settlement (what the ledger posts, line by line)."""

    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="lines")
    work = models.ForeignKey("works.Work", on_delete=models.PROTECT, related_name="+", db_constraint=False)
    work_price_wei = WeiField()
    terms_hash = models.CharField(
        max_length=66,
        blank=True,
        help_text="the licence terms that priced this work when the settlement was quoted",
    )
    payee = models.CharField(max_length=42)
    escrowed = models.BooleanField(default=False, help_text="held in escrow: the work is in dispute")
    beneficiary = models.CharField(
        max_length=42,
        blank=True,
        help_text="whom an escrowed line would have paid (released to on rejection)",
    )
    escrow_index = models.PositiveIntegerField(
        null=True, blank=True, help_text="the escrow leaf of this line in the settlement's tree"
    )
    role = models.CharField(max_length=24)
    party_role = models.CharField(max_length=60, blank=True)
    bps = models.PositiveIntegerField()
    amount = WeiField()
    source_work = models.ForeignKey(
        "works.Work", on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )

    class Meta:
        indexes = [models.Index(fields=["settlement", "work"])]

    def __str__(self):
        return f"{self.payee} {self.role} {self.amount} for work {self.work_id}"


class SettlementAllocation(models.Model):
    """A leaf of a settlement's tree: what one payee (or the escrow) may claim."""

    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="allocations")
    index = models.PositiveIntegerField()
    payee = models.CharField(max_length=42, db_index=True)
    amount = WeiField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_tx = models.CharField(max_length=66, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["settlement", "index"], name="one_allocation_per_leaf")
        ]

    def __str__(self):
        return f"{self.payee} {self.amount} in {self.settlement_id}"

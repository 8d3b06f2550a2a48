from django.conf import settings
from django.db import models

from core.fields import WeiField


class ContractDeployment(models.Model):
    """Where a contract of ours lives on a chain."""

    chain_id = models.BigIntegerField()
    name = models.CharField(max_length=64)
    address = models.CharField(max_length=42)
    tx_hash = models.CharField(max_length=66, blank=True)
    block_number = models.BigIntegerField(default=0)
    bytecode_hash = models.CharField(max_length=66, help_text="keccak of the deployed bytecode artifact")
    deployed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain_id", "name"], name="one_deployment_per_chain")]

    def __str__(self):
        return f"{self.name}@{self.chain_id}:{self.address}"


class SenderNonce(models.Model):
    """The next nonce for one sending key on one chain; locked while a nonce is assigned."""

    chain_id = models.BigIntegerField()
    address = models.CharField(max_length=42)
    next_nonce = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain_id", "address"], name="one_nonce_row_per_sender")
        ]

    def __str__(self):
        return f"{self.address}@{self.chain_id}: next {self.next_nonce}"


class ChainTransaction(models.Model):
    """One logical transaction: a nonce, and every signed attempt (fee bumps) at it.

    The signed bytes and hash of each attempt are stored before it is broadcast, so a worker
    killed between broadcast and database write finds the hash on restart and never re-sends
    with a new nonce.
    """

    class Status(models.TextChoices):
        SIGNED = "signed", "signed, not yet known to be broadcast"
        BROADCAST = "broadcast", "broadcast, waiting to be mined"
        MINED = "mined", "mined, waiting for confirmations"
        CONFIRMED = "confirmed", "confirmed"
        FAILED = "failed", "reverted"

    chain_id = models.BigIntegerField()
    sender = models.CharField(max_length=42)
    nonce = models.BigIntegerField()
    purpose = models.CharField(max_length=64)
    to = models.CharField(max_length=42)
    data = models.TextField(help_text="call data, 0x hex")
    value = WeiField(default=0)
    gas = models.BigIntegerField()
    max_fee_per_gas = WeiField()
    max_priority_fee_per_gas = WeiField()
    attempts = models.JSONField(default=list, help_text="[{hash, raw, max_fee, priority_fee, at}] in order")
    tx_hash = models.CharField(max_length=66, help_text="hash of the latest attempt")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SIGNED, db_index=True)
    mined_hash = models.CharField(max_length=66, blank=True, help_text="the attempt that was mined")
    block_number = models.BigIntegerField(null=True, blank=True)
    block_hash = models.CharField(max_length=66, blank=True)
    gas_used = models.BigIntegerField(null=True, blank=True)
    last_broadcast_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain_id", "sender", "nonce"], name="one_transaction_per_nonce"),
        ]

    def __str__(self):
        return f"{self.purpose} nonce {self.nonce} ({self.status})"

    @property
    def hashes(self) -> list[str]:
        return [attempt["hash"] for attempt in self.attempts]


class ChainCursor(models.Model):
    """How far the event indexer has read one contract's logs, and the hash of that block."""

    chain_id = models.BigIntegerField()
    contract = models.CharField(max_length=42)
    block_number = models.BigIntegerField()
    block_hash = models.CharField(max_length=66, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain_id", "contract"], name="one_cursor_per_contract")
        ]

    def __str__(self):
        return f"{self.contract}@{self.chain_id} at {self.block_number}"


class ChainEvent(models.Model):
    """A contract event seen after enough confirmations, stored once (chain id, tx hash, log
    index) and delivered to each subscriber through its own `EventDelivery` row.

    A reorg that removes the event's block after it was stored marks it `orphaned` and has every
    subscriber that handled it undo its effects; if the same log is mined again, the row comes
    back (`generation` + 1) and is delivered afresh.
    """

    chain_id = models.BigIntegerField()
    tx_hash = models.CharField(max_length=66)
    log_index = models.IntegerField()
    block_number = models.BigIntegerField()
    block_hash = models.CharField(max_length=66)
    block_timestamp = models.DateTimeField(null=True)
    contract = models.CharField(max_length=42)
    name = models.CharField(max_length=64, db_index=True)
    args = models.JSONField(help_text="decoded arguments; integers as decimal strings")
    orphaned = models.BooleanField(default=False, help_text="its block was reorganised away")
    generation = models.PositiveIntegerField(default=1, help_text="1 + times it came back after a reorg")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain_id", "tx_hash", "log_index"], name="one_row_per_log"),
        ]
        indexes = [models.Index(fields=["chain_id", "contract", "block_number"])]

    def __str__(self):
        return f"{self.name} {self.tx_hash}:{self.log_index}"

    @property
    def key(self) -> str:
        """The idempotency key effects of this event carry: chain:tx:log (+ generation)."""
        base = f"{self.chain_id}:{self.tx_hash}:{self.log_index}"
        return base if self.generation == 1 else f"{base}#{self.generation}"


class EventDelivery(models.Model):
    """One event handed to one subscriber: its own status, attempts and last error, retried with
    backoff, in its own database transaction, so a failing handler holds up nothing else."""

    class Status(models.TextChoices):
        PENDING = "pending", "waiting to be handled"
        DONE = "done", "handled"
        UNDO = "undo", "waiting to be undone (reorg)"
        UNDONE = "undone", "undone after a reorg"
        SKIPPED = "skipped", "orphaned before it was handled"

    event = models.ForeignKey(ChainEvent, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.CharField(max_length=64)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    generation = models.PositiveIntegerField(default=1)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(db_index=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "event deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "subscriber"], name="one_delivery_per_subscriber"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.event} -> {self.subscriber} ({self.status})"


class WalletTransaction(models.Model):
    """A transaction a user's wallet sent (a licence purchase, a training settlement or invoice, a
    withdrawal), reported by the page that asked for it and followed by one poller
    (core/chain/wallet.py): its receipt makes it mined or reverted with the contract's reason;
    what it paid for only ever comes from the confirmed chain event, which may mark it confirmed.
    Every hash is kept: a retry after a revert is a new row of the same subject."""

    class Kind(models.TextChoices):
        PURCHASE = "purchase", "licence purchase"
        SETTLEMENT = "settlement", "training settlement or invoice"
        WITHDRAWAL = "withdrawal", "withdrawal"

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "sent, waiting to be mined"
        MINED = "mined", "mined, waiting for confirmations"
        REVERTED = "reverted", "reverted"
        CONFIRMED = "confirmed", "confirmed"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    subject = models.CharField(
        max_length=66, help_text="what it pays or moves: a quote id, a settlement id, a payee's address"
    )
    tx_hash = models.CharField(max_length=66, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    reason = models.CharField(max_length=300, blank=True)
    block_number = models.BigIntegerField(null=True, blank=True)
    amount = WeiField(null=True, blank=True, help_text="what a confirmed withdrawal paid out")
    reported_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["reported_at", "pk"]
        indexes = [models.Index(fields=["kind", "subject", "status"], name="wallet_tx_subject")]

    def __str__(self):
        return f"{self.kind} {self.subject[:12]} {self.tx_hash} ({self.status})"

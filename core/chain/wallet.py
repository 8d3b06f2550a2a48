"""Transactions users' wallets send, followed in one place.

The page that asked a wallet to send a transaction (a licence purchase, a training settlement or
invoice, a withdrawal) reports the hash it got back (`wallet_tx_report`); `wallet_txs_check` is
the one poller: it asks the chain for each receipt still outstanding, and a mined transaction
waits for its confirmed event while a reverted one gets the contract's reason, in the user's
words. What the transaction paid for (a licence, training licences, a paid invoice, a
withdrawal) only ever comes from the confirmed chain event, whose handler may mark the
transaction confirmed (`wallet_tx_confirmed`) or, when a reorganisation removes the event,
submitted again (`wallet_tx_unconfirmed`)."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef
from django.utils import timezone
from web3 import Web3
from web3.exceptions import TransactionNotFound

from core.chain.client import get_web3
from core.chain.contracts import MARKET
from core.chain.models import WalletTransaction
from core.chain.reverts import revert_reason
from core.errors import CHAIN_ERRORS, ERR_CHAIN_DOWN, PortalError

Kind, Status = WalletTransaction.Kind, WalletTransaction.Status
ERR_TX_HASH = "That is not a transaction hash: 0x and 64 hex digits."
ERR_TX_ELSEWHERE = "This transaction was reported for something else."
ERR_TOO_MANY = "Too many transactions were reported for this payment; wait for the last one."
MAX_PER_SUBJECT = 20
IN_FLIGHT = (Status.SUBMITTED, Status.MINED)


class WalletTxError(PortalError):
    code = "invalid_tx"


def tx_hash_parse(value) -> str:
    """A transaction hash as the portal stores it (lower case), or a WalletTxError."""
    if not (isinstance(value, str) and len(value) == 66 and value[:2] in ("0x", "0X")):
        raise WalletTxError(ERR_TX_HASH)
    try:
        int(value, 16)
    except ValueError:
        raise WalletTxError(ERR_TX_HASH) from None
    return value.lower()


def wallet_tx_report(*, kind: str, subject: str, tx_hash, user=None) -> WalletTransaction:
    """Remember a hash a wallet returned, to follow it. The same hash reported again for the same
    subject is the same row; for another subject, or by another person, it is refused."""
    tx_hash = tx_hash_parse(tx_hash)
    existing = WalletTransaction.objects.filter(tx_hash=tx_hash).first()
    if existing is not None:
        same_user = user is None or existing.user_id in (None, user.pk)
        if existing.kind != kind or existing.subject != subject or not same_user:
            raise WalletTxError(ERR_TX_ELSEWHERE)
        return existing
    if WalletTransaction.objects.filter(kind=kind, subject=subject).count() >= MAX_PER_SUBJECT:
        raise WalletTxError(ERR_TOO_MANY, status=429, code="too_many_transactions")
    return WalletTransaction.objects.create(kind=kind, subject=subject, tx_hash=tx_hash, user=user)


def wallet_txs(*, kind: str, subject: str) -> list[WalletTransaction]:
    """Every transaction reported for a subject, oldest first."""
    return list(WalletTransaction.objects.filter(kind=kind, subject=subject))


def wallet_txs_check(
    *, kind: str, subject: str, w3: Web3 | None = None, contract_name: str = MARKET
) -> list[WalletTransaction]:
    """Ask the chain about each transaction of a subject still waiting to be mined (reads first,
    then one short write each); returns them all, oldest first."""
    waiting = list(WalletTransaction.objects.filter(kind=kind, subject=subject, status=Status.SUBMITTED))
    if waiting:
        w3 = w3 or get_web3()
        for tx in waiting:
            try:
                receipt = w3.eth.get_transaction_receipt(tx.tx_hash)
            except TransactionNotFound:
                WalletTransaction.objects.filter(pk=tx.pk).update(checked_at=timezone.now())
                continue
            fields = {"status": Status.MINED, "block_number": receipt["blockNumber"]}
            if receipt["status"] != 1:
                reason = revert_reason(w3, tx.tx_hash, contract_name=contract_name)
                fields.update(status=Status.REVERTED, reason=reason[:300])
            WalletTransaction.objects.filter(pk=tx.pk, status=Status.SUBMITTED).update(
                checked_at=timezone.now(), **fields
            )
    return wallet_txs(kind=kind, subject=subject)


@dataclass
class PaymentState:
    """What a page shows of the transactions sent for one payment: the newest still waiting to be
    mined, the newest mined and waiting for its event, the last one if the contract refused it,
    and why the chain could not be asked."""

    submitted: WalletTransaction | None = None
    mined: WalletTransaction | None = None
    last_reverted: WalletTransaction | None = None
    chain_error: str = ""

    @property
    def in_flight(self) -> WalletTransaction | None:
        return self.submitted or self.mined


def payment_state(*, kind: str, subject: str, check: bool = True) -> PaymentState:
    """The transactions of a subject as a page shows them; with `check`, the chain is asked first
    about those waiting to be mined (a chain that cannot be asked leaves them as they were)."""
    state = PaymentState()
    if check:
        try:
            sent = wallet_txs_check(kind=kind, subject=subject)
        except CHAIN_ERRORS:
            sent, state.chain_error = wallet_txs(kind=kind, subject=subject), ERR_CHAIN_DOWN
    else:
        sent = wallet_txs(kind=kind, subject=subject)
    for tx in sent:
        if tx.status == Status.SUBMITTED:
            state.submitted = tx
        elif tx.status == Status.MINED:
            state.mined = tx
    if sent and sent[-1].status == Status.REVERTED:
        state.last_reverted = sent[-1]
    return state


def wallet_tx_confirmed(*, tx_hash: str, at, amount: int | None = None) -> int:
    """The confirmed event of a reported transaction arrived (withdrawals: what it paid out)."""
    return (
        WalletTransaction.objects.filter(tx_hash=tx_hash.lower())
        .exclude(status=Status.CONFIRMED)
        .update(status=Status.CONFIRMED, amount=amount, confirmed_at=at, reason="")
    )


def wallet_tx_unconfirmed(*, tx_hash: str) -> int:
    """A reorganisation removed the event that confirmed it: followed again."""
    return WalletTransaction.objects.filter(tx_hash=tx_hash.lower(), status=Status.CONFIRMED).update(
        status=Status.SUBMITTED, confirmed_at=None
    )


def in_flight(*, kind: str, subject_ref: str) -> Exists:
    """A query expression: the row's subject (`OuterRef(subject_ref)`) has a transaction of this
    kind sent or mined and not yet confirmed or reverted."""
    return Exists(
        WalletTransaction.objects.filter(kind=kind, subject=OuterRef(subject_ref), status__in=IN_FLIGHT)
    )

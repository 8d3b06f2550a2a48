"""The transactions that mirror disputes on chain: a work's sales paused and resumed, escrowed
shares released where the decision sends them. Each linked to its row before broadcast."""

import contextlib

from django.db.models import Exists, OuterRef
from web3 import Web3

from core.chain import market as market_gateway
from core.chain.eip712 import typed_data_sign
from core.chain.keys import moderation_signer
from core.chain.market import escrow_decision_typed_data
from core.chain.merkle import SETTLEMENT_LEAF_ENCODING
from core.chain.sender import sender_context, transaction_send
from disputes import services
from disputes.models import Dispute, DisputeEvent, EscrowRelease
from royalties.models import Settlement, SettlementLine
from royalties.settlement import allocation_leaf, claim_args
from works.models import REVOKED

Kind, Status, Action = Dispute.Kind, Dispute.Status, DisputeEvent.Action


def escrow_destination(line) -> tuple[str, Dispute | None] | None:
    """Where an escrowed settlement line goes now: None while its work's registration is in
    dispute; the rightful creator (or the buyer) once revoked; its payee otherwise."""
    work = line.work
    disputes = Dispute.objects.filter(work_id=line.work_id, kind__in=[Kind.REGISTRATION, Kind.CONTENT])
    if disputes.filter(kind=Kind.REGISTRATION, status=Status.OPEN).exists():
        return None
    decided = disputes.exclude(status=Status.OPEN).order_by("-decided_at").first()
    if work.registration.status == REVOKED:
        revocation = getattr(work, "revocation", None)
        rightful = revocation.rightful_work if revocation else None
        if rightful is not None and rightful.is_public:
            return rightful.creator_address, decided
        return line.settlement.buyer_address, decided
    return line.beneficiary, decided


class ReleaseAlreadySent(Exception):
    pass


def escrow_releases_send(*, ctx=None) -> int:
    """Release every escrowed line of a paid settlement whose work's dispute is decided (the
    beat runs this; a settlement paid after the decision is released on the next beat). One
    `releaseEscrow` per line, linked before broadcast, so a line is never released twice."""
    due = (
        SettlementLine.objects.filter(
            escrowed=True,
            escrow_index__isnull=False,
            settlement__status=Settlement.Status.PAID,
            release__isnull=True,
        )
        .exclude(  # held while the work's registration is in dispute: not looked at every beat
            Exists(
                Dispute.objects.filter(
                    work_id=OuterRef("work_id"), kind=Kind.REGISTRATION, status=Status.OPEN
                )
            )
        )
        .select_related("settlement", "work__registration")
        .order_by("pk")
    )
    sent = 0
    ctx_ = None
    for line in due[:200]:
        destination = escrow_destination(line)
        if destination is None or destination[1] is None:
            continue
        to, dispute = destination
        ctx_ = ctx_ or ctx or sender_context()
        market = market_gateway.market(w3=ctx_.w3, address=line.settlement.market_address)
        allocation = line.settlement.allocations.get(index=line.escrow_index)
        data, amount = _release_call(market, allocation, to=to, w3=ctx_.w3)

        def link(tx, line=line, to=to, dispute=dispute, amount=amount):
            _, created = EscrowRelease.objects.get_or_create(
                line=line, defaults={"dispute": dispute, "to": to, "amount": amount, "transaction": tx}
            )
            if not created:
                raise ReleaseAlreadySent(line.pk)
            services.event_record(
                dispute,
                actor=None,
                action=Action.ESCROW,
                text=f"{amount} wei held for “{line.work.title}” released to {to}.",
            )

        with contextlib.suppress(ReleaseAlreadySent):
            transaction_send(
                purpose=f"escrow:{line.pk}", to=market.address, data=data, ctx=ctx_, on_stored=link
            )
            sent += 1
    return sent


def _release_call(market, allocation, *, to: str, w3) -> tuple[str, int]:
    """LicenseMarket.releaseEscrow's call data for one escrowed leaf. Version 2: the leaf names
    whom it was held for and the buyer; any other recipient (the rightful creator) comes with
    the moderation key's signature of the decision. Version 1 took the recipient as given."""
    settlement_id, index, amount, proof = claim_args(allocation)
    value, _ = allocation_leaf(allocation)
    if allocation.settlement.tree["leafEncoding"] != SETTLEMENT_LEAF_ENCODING:
        return market_gateway.release_escrow_call(
            w3=w3, address=market.address, args=[settlement_id, index, amount, proof, to]
        )[1], amount
    held_for, refund_to = Web3.to_checksum_address(value[2]), Web3.to_checksum_address(value[4])
    decision = b""
    if to not in (held_for, refund_to):
        typed = escrow_decision_typed_data(
            chain_id=w3.eth.chain_id,
            market=market.address,
            settlement_id=allocation.settlement.settlement_id,
            index=index,
            to=to,
        )
        decision = bytes.fromhex(typed_data_sign(typed, moderation_signer())[2:])
    leaf = (settlement_id, index, amount, held_for, refund_to)
    return market_gateway.release_escrow_call(
        w3=w3, address=market.address, args=[leaf, proof, to, decision]
    )[1], amount


def sales_pauses_send(*, ctx=None) -> int:
    """Mirror registration disputes on chain (LicenseMarket.setWorkPaused): a work under an open
    registration dispute cannot be bought even with a quote signed earlier, and every settlement
    signed before the dispute goes stale; sales resume on chain when the last such dispute of
    the work is decided and the work was not revoked. One transaction each, linked before
    broadcast."""
    ctx = ctx or sender_context()
    market = market_gateway.market(w3=ctx.w3)
    sent = 0
    for dispute in Dispute.objects.filter(
        kind=Kind.REGISTRATION, status=Status.OPEN, chain_pause__isnull=True
    ).select_related("work")[:100]:
        sent += _pause_send(ctx, market, dispute, paused=True)
    resumable = (
        Dispute.objects.filter(kind=Kind.REGISTRATION, chain_pause__isnull=False, chain_resume__isnull=True)
        .exclude(status=Status.OPEN)
        .exclude(work__registration__status=REVOKED)
        .exclude(
            Exists(
                Dispute.objects.filter(
                    work_id=OuterRef("work_id"), kind=Kind.REGISTRATION, status=Status.OPEN
                )
            )
        )
    )
    for dispute in resumable.select_related("work")[:100]:
        sent += _pause_send(ctx, market, dispute, paused=False)
    return sent


class PauseAlreadySent(Exception):
    pass


def _pause_send(ctx, market, dispute: Dispute, *, paused: bool) -> int:
    field = "chain_pause" if paused else "chain_resume"

    def link(tx):
        if Dispute.objects.filter(pk=dispute.pk, **{f"{field}__isnull": True}).update(**{field: tx}) != 1:
            raise PauseAlreadySent(dispute.pk)

    try:
        transaction_send(
            purpose=f"{'pause' if paused else 'resume'}-work:{dispute.work_id}:{dispute.pk}",
            to=market.address,
            data=market_gateway.set_work_paused_call(w3=ctx.w3, work_id=dispute.work_id, paused=paused)[1],
            ctx=ctx,
            on_stored=link,
        )
    except PauseAlreadySent:
        return 0
    return 1

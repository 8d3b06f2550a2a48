"""Chain events disputes follows (settings.CHAIN_SUBSCRIBERS["escrow"]): the release a decision
sent is done when its EscrowReleased event is indexed, and sent again when a reorg drops it."""

from disputes.models import EscrowRelease


def _releases(event):
    return EscrowRelease.objects.filter(
        line__settlement__settlement_id=event.args["settlementId"],
        line__escrow_index=int(event.args["index"]),
    )


def on_escrow_released(event) -> None:
    _releases(event).update(status=EscrowRelease.Status.DONE)


def on_escrow_released_orphaned(event) -> None:
    _releases(event).update(status=EscrowRelease.Status.SENT)  # the sender mines it again

"""Who gets paid, and how much, when a work earns `gross` wei.

The one place where the platform fee, upstream (derivative) royalties, co-creator shares,
rounding and the remainder rule are defined:

1. Platform fee: `gross * PLATFORM_FEE_BPS // 10_000` (rounded down).
2. Upstream: each ancestor of the work takes its derivative revenue share (basis points of the
   work's revenue after the platform fee, rounded down), stacked up the tree; an ancestor's
   share is split by that ancestor's own accepted sheet (its co-creators, its owner the rest).
3. The creator pool (what is left) is split by the work's accepted split sheet: each
   co-creator takes their basis points of the pool, rounded down; the owner takes the rest,
   so every wei of rounding dust goes to the owner and the lines always sum to `gross`.

`split_resolve` returns typed lines (address, role, basis points, amount, the work the share
comes from); `contract_payees` aggregates them to one amount per address for the contract.
"""

from dataclasses import asdict, dataclass

from django.conf import settings

from core.chain.keys import platform_fee_address

BPS = 10_000
ROLE_OWNER = "creator"
ROLE_PLATFORM = "platform"
ROLE_UPSTREAM = "upstream"


@dataclass(frozen=True)
class SplitLine:
    address: str
    role: str
    bps: int
    amount: int
    work_id: int
    party: str = ""  # a co-creator's role, e.g. "illustrator"; the ancestor's title upstream

    def as_json(self) -> dict:
        data = asdict(self)
        data["amount"] = str(self.amount)
        return data

    @classmethod
    def from_json(cls, data: dict) -> "SplitLine":
        return cls(**{**data, "amount": int(data["amount"])})


def _shares(work) -> list[tuple[str, int, str]]:
    """(address, bps, party role) of the work's co-creators under its accepted split sheet."""
    from royalties.selectors import accepted_sheet_parties

    return accepted_sheet_parties(work=work)


def _ancestors(work) -> list[tuple[object, int]]:
    """(ancestor work, revenue share bps) for every ancestor, nearest first."""
    from royalties.selectors import upstream_shares

    return upstream_shares(work=work)


def split_resolve(*, work, gross: int) -> list[SplitLine]:
    gross = int(gross)
    if gross < 0:
        raise ValueError("a payment cannot be negative")
    lines: list[SplitLine] = []
    fee_bps = settings.PLATFORM_FEE_BPS
    fee = gross * fee_bps // BPS
    if fee_bps:
        lines.append(SplitLine(platform_fee_address(), ROLE_PLATFORM, fee_bps, fee, work.pk))
    net = gross - fee

    upstream_total = 0
    for ancestor, bps in _ancestors(work):
        amount = net * bps // BPS
        upstream_total += amount
        lines.extend(_sheet_lines(ancestor, amount, ROLE_UPSTREAM, bps))
    pool = net - upstream_total
    if pool < 0:  # refused at registration; kept as a guard so no line is ever negative
        raise ValueError(f"upstream shares of work {work.pk} exceed its revenue")

    lines[0:0] = _sheet_lines(work, pool, ROLE_OWNER, BPS)
    if sum(line.amount for line in lines) != gross or any(line.amount < 0 for line in lines):
        raise ValueError(f"split of work {work.pk} does not add up to {gross}")  # guarded by tests
    return lines


def _sheet_lines(work, amount: int, owner_role: str, share_bps: int) -> list[SplitLine]:
    """`amount` split by the work's accepted sheet: each co-creator their basis points (rounded
    down), the owner the rest. Upstream, the roles say so ("upstream", "upstream_co_creator")
    and the title of the ancestor is kept on each line."""
    upstream = owner_role == ROLE_UPSTREAM
    owner_bps, taken, co_lines = BPS, 0, []
    for address, bps, party in _shares(work):
        share = amount * bps // BPS
        taken += share
        owner_bps -= bps
        co_lines.append(
            SplitLine(
                address, "upstream_co_creator" if upstream else "co_creator", bps, share, work.pk, party
            )
        )
    owner = SplitLine(
        work.creator_address,
        owner_role,
        share_bps if upstream else owner_bps,
        amount - taken,
        work.pk,
        work.title if upstream else "",
    )
    return [owner, *co_lines]


def contract_payees(lines: list[SplitLine]) -> tuple[list[str], list[int]]:
    """One (address, amount) per address, in the order addresses first appear."""
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.address] = totals.get(line.address, 0) + line.amount
    return list(totals), list(totals.values())

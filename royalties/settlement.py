"""One-transaction settlements: pay any number of works at once, every payee claims later.

1. `settlement_create` prices nothing itself: it takes (work, price) lines, splits each with
   `split_resolve` (co-creators, upstream, platform fee), sends the shares of a work in dispute
   to the contract's ESCROW instead of its owner, aggregates one allocation per payee, builds
   the OpenZeppelin StandardMerkleTree of tagged (tag, index, payee, amount, refundTo) leaves
   (an escrowed share: held for its party, refundable to the buyer) and signs the root with the
   market's dispute epoch (a dispute opened since makes it stale).
2. The buyer's wallet calls `LicenseMarket.settle` with the exact price: one transaction, flat
   gas, whatever the number of works (bench/settlement_gas.py). The market never pays out of a
   settlement more than its price.
3. When the `Settled` event is confirmed, the ledger records every line (per work, per role) as
   allocated to its payee; `Claimed` moves a payee's allocation to their withdrawable balance;
   `EscrowReleased` moves an escrowed allocation to whoever a moderator named.
"""

import secrets
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from web3 import Web3

from core.chain import market as market_messages
from core.chain.client import get_web3
from core.chain.clock import chain_now
from core.chain.contracts import MARKET, contract
from core.chain.eip712 import typed_data_sign
from core.chain.keys import platform_signer
from core.chain.merkle import (
    ESCROW_LEAF,
    PAYEE_LEAF,
    SETTLEMENT_LEAF_ENCODING,
    SETTLEMENT_V1_LEAF_ENCODING,
    ZERO_ADDRESS,
    StandardMerkleTree,
)
from core.chain.roles import platform_signature_current
from core.chain.stablecoin import (
    ERR_PERMIT_MALFORMED,
    PERMIT_SIGNATURE,
    approve_call,
    permit_typed_data,
    stablecoin_address,
)
from core.chain.stablecoin import currency as stablecoin_currency
from core.errors import PortalError
from royalties.ledger import EntrySpec, Leg, ledger_post, ledger_post_many
from royalties.models import JournalEntry, LedgerAccount, Settlement, SettlementAllocation, SettlementLine
from royalties.splits import split_resolve
from works import hooks

Kind = LedgerAccount.Kind
ERR_NOTHING = "Nothing to settle: every work was refused."
ERR_NOT_OPEN = "This settlement can no longer be paid ({status})."
ERR_EXPIRED = "This settlement expired; ask for a fresh quote."
ERR_CURRENCY = "Settlements are paid in ETH or {stablecoin}, not {currency}."
ERR_NOT_TOKEN = "This settlement is paid in ETH: there is no permit to sign."
ERR_STALE = (
    "A registration dispute was opened since this settlement was signed, so it can no longer be "
    "paid; ask for a fresh quote (works in dispute are held in escrow)."
)
ESCROW_ADDRESS = Web3.to_checksum_address("0x" + Web3.keccak(text="creator-ip-portal.escrow").hex()[-40:])


class SettlementError(PortalError):
    code = "settlement_refused"


def escrow_address() -> str:
    """The ESCROW constant of LicenseMarket (address(uint160(uint256(keccak256(...)))))."""
    return ESCROW_ADDRESS


def _disputed_work_ids(work_ids) -> set[int]:
    """Works whose revenue is held in escrow: an open dispute of their registration, or a revoked
    registration (the escrow then goes to the rightful creator, or back to the buyer)."""
    return hooks.works_escrowed(work_ids=work_ids)


def settlements_expire_for_work(*, work) -> int:
    """Expire the unpaid settlements that include a work whose sales are paused (a registration
    dispute): a fresh settlement sends the work's shares to escrow instead."""
    return Settlement.objects.filter(status=Settlement.Status.OPEN, lines__work=work).update(
        status=Settlement.Status.EXPIRED
    )


def settlement_create(
    *,
    org,
    buyer_address: str,
    purpose: str,
    lines: list[tuple],
    refused=(),
    training_purpose="",
    model_name="",
    currency: str = "ETH",
    w3: Web3 | None = None,
) -> Settlement:
    """A signed settlement for (work, price, terms hash) lines, paid by `buyer_address`. The
    terms hash names the licence terms that priced the work: what is sold is what they say.
    Prices are in `currency`'s smallest unit: wei, or the stablecoin's (a TokenSettlement naming
    the token, paid with settleWithToken and claimed in the token)."""

    lines = [(work, int(price), terms_hash) for work, price, terms_hash in lines if int(price) > 0]
    if not lines:
        raise SettlementError(ERR_NOTHING)
    if currency not in ("ETH", stablecoin_currency()):
        raise SettlementError(ERR_CURRENCY.format(stablecoin=stablecoin_currency(), currency=currency))
    w3 = w3 or get_web3()
    market = contract(w3=w3, name=MARKET)
    disputed = _disputed_work_ids([work.pk for work, _, _ in lines])
    detail = []
    for work, price, terms_hash in lines:
        for line in split_resolve(work=work, gross=price):
            escrowed = work.pk in disputed and line.role != "platform"
            detail.append((work, price, terms_hash, line, escrowed))
    totals: dict[str, int] = defaultdict(int)
    for _, _, _, line, escrowed in detail:
        if not escrowed:
            totals[line.address] += line.amount
    payees = [(address, amount) for address, amount in totals.items() if amount]
    leaves = [[PAYEE_LEAF, i, address, amount, ZERO_ADDRESS] for i, (address, amount) in enumerate(payees)]
    # Each escrowed line is a leaf of its own, committing to whom it was held for and the buyer:
    # the operator may release it to either; anyone else (the rightful creator) needs a
    # moderator's signed decision (LicenseMarket.releaseEscrow).
    escrow_index: dict[int, int] = {}
    for position, (_, _, _, line, escrowed) in enumerate(detail):
        if escrowed and line.amount:
            escrow_index[position] = len(payees)
            leaves.append([ESCROW_LEAF, len(payees), line.address, line.amount, buyer_address])
            payees.append((ESCROW_ADDRESS, line.amount))
    tree = StandardMerkleTree.of(leaves, SETTLEMENT_LEAF_ENCODING)
    price = sum(amount for _, amount in payees)
    settlement_id = "0x" + secrets.token_hex(32)
    expiry = chain_now(w3) + settings.QUOTE_TTL_SECONDS  # checked on chain against block.timestamp
    fields = dict(
        chain_id=w3.eth.chain_id,
        market=market.address,
        settlement_id=settlement_id,
        root=Web3.to_hex(tree.root),
        buyer=buyer_address,
        price=price,
        expiry=expiry,
        # pausing any work's sales (a dispute) moves the epoch: this settlement then stops
        dispute_epoch=market_messages.dispute_epoch(w3=w3, address=market.address),
    )
    if currency == "ETH":
        typed = market_messages.settlement_typed_data(**fields)
    else:
        typed = market_messages.token_settlement_typed_data(token=stablecoin_address(w3=w3), **fields)
    with transaction.atomic():
        settlement = Settlement.objects.create(
            settlement_id=settlement_id,
            org=org,
            purpose=purpose,
            training_purpose=training_purpose,
            model_name=model_name[:200],
            buyer_address=buyer_address,
            price_wei=price,
            currency=currency,
            root=Web3.to_hex(tree.root),
            expiry=expiry,
            typed_data=typed,
            signature=typed_data_sign(typed, platform_signer()),
            market_address=market.address,
            chain_id=w3.eth.chain_id,
            tree=tree.dump(),
            refused=list(refused),
        )
        SettlementAllocation.objects.bulk_create(
            [
                SettlementAllocation(settlement=settlement, index=i, payee=address, amount=amount)
                for i, (address, amount) in enumerate(payees)
            ],
            batch_size=5000,
        )
        SettlementLine.objects.bulk_create(
            [
                SettlementLine(
                    settlement=settlement,
                    work=work,
                    work_price_wei=price,
                    terms_hash=terms_hash,
                    payee=ESCROW_ADDRESS if escrowed else line.address,
                    escrowed=escrowed,
                    beneficiary=line.address if escrowed else "",
                    escrow_index=escrow_index.get(position),
                    role=line.role,
                    party_role=line.party,
                    bps=line.bps,
                    amount=line.amount,
                    source_work_id=line.work_id,
                )
                for position, (work, price, terms_hash, line, escrowed) in enumerate(detail)
                if line.amount
            ],
            batch_size=5000,
        )
    return settlement


def _payable(settlement: Settlement) -> None:
    if settlement.status != Settlement.Status.OPEN:
        raise SettlementError(ERR_NOT_OPEN.format(status=settlement.get_status_display()), status=409)
    if settlement.expiry < chain_now():
        raise SettlementError(ERR_EXPIRED, status=410, code="settlement_expired")


def settlement_permit_typed_data(*, settlement: Settlement, w3: Web3 | None = None) -> dict:
    """What the buyer signs to pay a settlement in the stablecoin from a browser wallet: an
    EIP-2612 permit for the market to take exactly the price, valid until the settlement
    expires (the one extra signature; settlement_transaction(permit=...) then sends it)."""
    _payable(settlement)
    if "token" not in settlement.typed_data["message"]:
        raise SettlementError(ERR_NOT_TOKEN, code="not_a_token_settlement")
    return permit_typed_data(
        w3=w3 or get_web3(),
        owner=settlement.buyer_address,
        spender=settlement.market_address,
        value=int(settlement.price_wei),
        deadline=int(settlement.expiry),
    )


def settlement_transaction(*, settlement: Settlement, w3: Web3 | None = None, permit: str = "") -> dict:
    """The transaction the buyer's wallet sends: settle(settlement, signature) with the price in
    ETH. In the stablecoin: with the buyer's `permit`, settleWithPermit; without, settleWithToken
    and the approval of exactly the price to send first."""

    _payable(settlement)
    if permit and not PERMIT_SIGNATURE.fullmatch(permit):
        raise SettlementError(ERR_PERMIT_MALFORMED, code="malformed_permit")
    w3 = w3 or get_web3()
    m = settlement.typed_data["message"]
    args = [bytes.fromhex(m["settlementId"][2:]), bytes.fromhex(m["root"][2:])]
    if "token" in m:  # a TokenSettlement
        args.append(m["token"])
    args += [m["buyer"], int(m["price"]), int(m["expiry"])]
    if "disputeEpoch" in m:  # version 2: a dispute since it was signed makes it stale
        if int(m["disputeEpoch"]) != market_messages.dispute_epoch(w3=w3, address=settlement.market_address):
            Settlement.objects.filter(pk=settlement.pk, status=Settlement.Status.OPEN).update(
                status=Settlement.Status.EXPIRED
            )
            raise SettlementError(ERR_STALE, status=410, code="settlement_stale")
        args.append(int(m["disputeEpoch"]))
        resigned = platform_signature_current(settlement.typed_data, settlement.signature)
        if resigned:  # the signing key was rotated since: the market only trusts the new one
            Settlement.objects.filter(pk=settlement.pk).update(signature=resigned)
            settlement.signature = resigned
    if "token" in m and permit:
        to, data = market_messages.settle_with_permit_call(
            w3=w3,
            address=settlement.market_address,
            settlement_args=tuple(args),
            signature=settlement.signature,
            deadline=int(m["expiry"]),
            permit=permit,
        )
        return _wallet_tx(settlement, to, data)
    if "token" in m:
        to, data = market_messages.settle_with_token_call(
            w3=w3,
            address=settlement.market_address,
            settlement_args=tuple(args),
            signature=settlement.signature,
        )
        approve_to, approve_data = approve_call(
            w3=w3, spender=settlement.market_address, amount=int(settlement.price_wei)
        )
        return {
            **_wallet_tx(settlement, to, data),
            # sent first, from the same wallet: the market takes exactly the price
            "approval": {
                "from": settlement.buyer_address,
                "to": approve_to,
                "data": approve_data,
                "value": "0x0",
            },
        }
    to, data = market_messages.settle_call(
        w3=w3, address=settlement.market_address, settlement_args=tuple(args), signature=settlement.signature
    )
    return _wallet_tx(settlement, to, data, value=int(settlement.price_wei))


def _wallet_tx(settlement: Settlement, to: str, data: str, *, value: int = 0) -> dict:
    """A transaction for the buyer's wallet (EIP-1193 field names, hex amounts)."""
    return {
        "from": settlement.buyer_address,
        "to": to,
        "data": data,
        "value": hex(value),
        "chainId": hex(settlement.chain_id),
    }


def claims_for(*, address: str, currency: str = "ETH") -> list[SettlementAllocation]:
    """Paid, unclaimed allocations of a payee in one currency (what its Withdraw claims first)."""
    return list(
        SettlementAllocation.objects.filter(
            payee=address,
            claimed_at__isnull=True,
            settlement__status=Settlement.Status.PAID,
            settlement__currency=currency,
        ).select_related("settlement")
    )


def _leaf_index(value: list, encoding: list[str]) -> int:
    """The allocation index in a leaf's value: first in version 1, after the tag in version 2."""
    return int(value[0] if encoding == SETTLEMENT_V1_LEAF_ENCODING else value[1])


def allocation_leaf(allocation: SettlementAllocation) -> tuple[list, list[bytes]]:
    """(the leaf's value as stored, its proof) in the allocation's settlement tree."""
    tree = allocation.settlement.tree
    leaves = StandardMerkleTree(
        tree=[bytes.fromhex(node[2:]) for node in tree["tree"]],
        values=[{"value": v["value"], "treeIndex": v["treeIndex"]} for v in tree["values"]],
        leaf_encoding=tree["leafEncoding"],
    )
    position = next(
        i
        for i, v in enumerate(tree["values"])
        if _leaf_index(v["value"], tree["leafEncoding"]) == allocation.index
    )
    return tree["values"][position]["value"], leaves.proof(position)


def claim_args(allocation: SettlementAllocation) -> tuple:
    """(settlementId, index, amount, proof) for LicenseMarket.claim / claimAndWithdraw."""
    _, proof = allocation_leaf(allocation)
    return (
        bytes.fromhex(allocation.settlement.settlement_id[2:]),
        allocation.index,
        int(allocation.amount),
        proof,
    )


# ------------------------------------------------------------------ ledger, from chain events


def settlement_event_post(event) -> None:
    """The ledger side of Settled / Claimed / EscrowReleased (idempotent on the event key)."""
    if event.name in ("Settled", "TokenSettled"):
        _settled(event)
    elif event.name == "Claimed":
        _claimed(event)
    elif event.name == "EscrowReleased":
        _escrow_released(event)


def _settled(event) -> None:
    args = event.args
    settlement = Settlement.objects.filter(settlement_id=args["settlementId"]).first()
    if (
        settlement is None
        or int(args["price"]) != int(settlement.price_wei)
        or args["root"] != settlement.root
    ):
        raise SettlementError(f"Settled {args['settlementId']} does not match a settlement of ours")
    paid_in = "ETH" if event.name == "Settled" else stablecoin_currency()
    if paid_in != settlement.currency:  # a token settlement is only ever paid through TokenSettled
        raise SettlementError(
            f"{event.name} {args['settlementId']} paid in {paid_in}, not {settlement.currency}"
        )
    buyer = Web3.to_checksum_address(args["buyer"])
    cur = settlement.currency
    legs = [
        Leg(
            Kind.BUYER_PAID,
            buyer,
            -int(settlement.price_wei),
            currency=cur,
            meta={"reference": settlement.settlement_id},
        )
    ]
    for line in settlement.lines.all().iterator(chunk_size=5000):
        legs.append(
            Leg(
                Kind.ALLOCATED,
                line.payee,
                int(line.amount),
                currency=cur,
                earning=not line.escrowed,
                meta={
                    "role": line.role,
                    "party_role": line.party_role,
                    "bps": line.bps,
                    "work_id": line.source_work_id,
                    "sold_work_id": line.work_id,
                    "gross": int(line.work_price_wei),
                    "counterparty": buyer,
                    "uses": 2 if settlement.training_purpose == "training" else 4,
                    "reference": settlement.settlement_id,
                },
            )
        )
    ledger_post_many(
        [
            EntrySpec(
                key=event.key,
                kind=JournalEntry.Kind.SETTLEMENT,
                occurred_at=event.block_timestamp,
                legs=legs,
                chain_event_id=event.pk,
                tx_hash=event.tx_hash,
                memo=f"{settlement.get_purpose_display()} for {settlement.org}",
            )
        ]
    )
    Settlement.objects.filter(pk=settlement.pk).update(
        status=Settlement.Status.PAID, chain_event=event, paid_at=event.block_timestamp
    )


def _currency_of(settlement_id: str) -> str:
    """What a settlement was paid in (its allocations are claimed and released in the same)."""
    found = Settlement.objects.filter(settlement_id=settlement_id).values_list("currency", flat=True).first()
    return found or "ETH"


def _claimed(event) -> None:
    args = event.args
    payee, amount = Web3.to_checksum_address(args["payee"]), int(args["amount"])
    cur = _currency_of(args["settlementId"])
    ledger_post(
        EntrySpec(
            key=event.key,
            kind=JournalEntry.Kind.CLAIM,
            occurred_at=event.block_timestamp,
            legs=[
                Leg(Kind.ALLOCATED, payee, -amount, currency=cur),
                Leg(Kind.CREDITED, payee, amount, currency=cur),
            ],
            chain_event_id=event.pk,
            tx_hash=event.tx_hash,
            memo=f"claim {args['settlementId'][:10]}…#{args['index']}",
        )
    )
    SettlementAllocation.objects.filter(
        settlement__settlement_id=args["settlementId"], index=int(args["index"])
    ).update(claimed_at=event.block_timestamp, claim_tx=event.tx_hash)


def _escrow_released(event) -> None:
    args = event.args
    to, amount = Web3.to_checksum_address(args["to"]), int(args["amount"])
    cur = _currency_of(args["settlementId"])
    ledger_post(
        EntrySpec(
            key=event.key,
            kind=JournalEntry.Kind.ESCROW_RELEASE,
            occurred_at=event.block_timestamp,
            legs=[
                Leg(Kind.ALLOCATED, ESCROW_ADDRESS, -amount, currency=cur),
                Leg(
                    Kind.CREDITED,
                    to,
                    amount,
                    currency=cur,
                    earning=True,
                    meta={"role": "escrow_release", "reference": args["settlementId"]},
                ),
            ],
            chain_event_id=event.pk,
            tx_hash=event.tx_hash,
            memo=f"escrow released to {to}",
        )
    )
    SettlementAllocation.objects.filter(
        settlement__settlement_id=args["settlementId"], index=int(args["index"])
    ).update(claimed_at=event.block_timestamp, claim_tx=event.tx_hash)

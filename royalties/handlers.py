"""The ledger's chain-event subscriber (declared in settings.CHAIN_SUBSCRIBERS as "ledger").

Money enters the ledger only from confirmed LicenseMarket events, never from a browser:
- Credited(quoteId, payee, amount): the buyer paid `amount` to `payee`; one line per split
  line of the quote for that payee (creator, co-creator, upstream, platform), so roles survive
  although the event carries none.
- Withdrawn(payee, amount): the payee's balance went to their wallet.
- TokenCredited(quoteId, token, payee, amount) and TokenWithdrawn(token, payee, amount): the
  same in the stablecoin (an AI fetch paid with x402, or a stablecoin-priced licence), posted in
  the stablecoin's currency: amounts of different currencies never share an account.
Each event posts one entry keyed by the event's key (chain:tx:log[#generation]); `undo` posts
the reversing entry when a reorg orphans the event.
"""

import logging

from web3 import Web3

from core.chain.client import get_web3
from core.chain.stablecoin import currency, stablecoin_address
from core.chain.wallet import wallet_tx_confirmed, wallet_tx_unconfirmed
from core.errors import ContractNotDeployed
from royalties import hooks
from royalties.ledger import EntrySpec, Leg, ledger_post, ledger_reverse
from royalties.models import JournalEntry, LedgerAccount

logger = logging.getLogger(__name__)
Kind = LedgerAccount.Kind
UNKNOWN_BUYER = "0x0000000000000000000000000000000000000000"


def on_market_event(event):
    handler = HANDLERS.get(event.name)
    if handler is not None:
        handler(event)


def on_market_event_orphaned(event):
    for entry in JournalEntry.objects.filter(chain_event=event).exclude(kind=JournalEntry.Kind.REVERSAL):
        if not JournalEntry.objects.filter(reverses=entry).exists():
            # Dated like the entry it cancels: the sale never happened, so its day nets to zero.
            ledger_reverse(entry=entry, occurred_at=entry.occurred_at, memo=f"reorg: {event.key} orphaned")
    if event.name in ("Claimed", "EscrowReleased"):
        from royalties.models import SettlementAllocation

        SettlementAllocation.objects.filter(claim_tx=event.tx_hash).update(claimed_at=None, claim_tx="")
    if event.name in ("Settled", "TokenSettled"):
        from royalties.models import Settlement

        Settlement.objects.filter(chain_event=event).update(
            status=Settlement.Status.OPEN, chain_event=None, paid_at=None
        )
    if event.name in ("Withdrawn", "Settled", "TokenSettled"):
        wallet_tx_unconfirmed(tx_hash=event.tx_hash)


def _token_currency(token: str) -> str:
    """The ledger's currency of a token the market credited: only the configured stablecoin is
    ever quoted (the platform signs every quote), so anything else is logged and named by its
    address's first characters rather than mixed into the stablecoin's accounts."""
    token = Web3.to_checksum_address(token)
    try:
        if token == stablecoin_address(w3=get_web3()):
            return currency()
    except ContractNotDeployed:
        pass
    logger.error("market credited an unknown token %s", token)
    return token[:8]


def _credited(event):
    args = event.args
    cur = _token_currency(args["token"]) if event.name == "TokenCredited" else "ETH"
    payee, amount = Web3.to_checksum_address(args["payee"]), int(args["amount"])
    quote = hooks.sale_for_quote(quote_id=args["quoteId"])
    common = {"reference": args["quoteId"]}
    if quote is None:
        logger.error("Credited for unknown quote %s in %s", args["quoteId"], event.tx_hash)
        buyer = UNKNOWN_BUYER
        credit_legs = [Leg(Kind.CREDITED, payee, amount, currency=cur, earning=True, meta=common)]
    else:
        buyer = quote["buyer"]
        sale = {
            **common,
            "sold_work_id": quote["sold_work_id"],
            "gross": quote["gross"],
            "counterparty": buyer,
            "uses": quote["uses"],
        }
        mine = [line for line in quote["split"] if Web3.to_checksum_address(line["address"]) == payee]
        if sum(int(line["amount"]) for line in mine) == amount:
            credit_legs = [
                Leg(
                    Kind.CREDITED,
                    payee,
                    int(line["amount"]),
                    currency=cur,
                    earning=True,
                    meta={
                        **sale,
                        "role": line["role"],
                        "party_role": line.get("party", ""),
                        "bps": line["bps"],
                        "work_id": line["work_id"],
                    },
                )
                for line in mine
                if int(line["amount"])
            ]
        else:  # the chain is the truth: record what was credited, flag that roles are unknown
            logger.error("Credited %s to %s does not match quote %s", amount, payee, args["quoteId"])
            credit_legs = [
                Leg(
                    Kind.CREDITED,
                    payee,
                    amount,
                    currency=cur,
                    earning=True,
                    meta={**sale, "role": "unmatched"},
                )
            ]
    if not amount:
        return
    ledger_post(
        EntrySpec(
            key=event.key,
            kind=JournalEntry.Kind.SALE,
            occurred_at=event.block_timestamp,
            chain_event_id=event.pk,
            tx_hash=event.tx_hash,
            legs=[
                Leg(Kind.BUYER_PAID, buyer, -amount, currency=cur, meta={**common, "counterparty": payee}),
                *credit_legs,
            ],
            memo=f"sale: quote {args['quoteId'][:18]}…",
        )
    )


def _withdrawn(event):
    cur = _token_currency(event.args["token"]) if event.name == "TokenWithdrawn" else "ETH"
    payee, amount = Web3.to_checksum_address(event.args["payee"]), int(event.args["amount"])
    ledger_post(
        EntrySpec(
            key=event.key,
            kind=JournalEntry.Kind.WITHDRAWAL,
            occurred_at=event.block_timestamp,
            chain_event_id=event.pk,
            tx_hash=event.tx_hash,
            legs=[
                Leg(Kind.CREDITED, payee, -amount, currency=cur),
                Leg(Kind.WITHDRAWN, payee, amount, currency=cur),
            ],
            memo="withdrawal",
        )
    )
    wallet_tx_confirmed(tx_hash=event.tx_hash, at=event.block_timestamp, amount=amount)


def _settlement_event(event):
    from royalties.settlement import settlement_event_post

    settlement_event_post(event)
    if event.name in ("Settled", "TokenSettled"):
        wallet_tx_confirmed(tx_hash=event.tx_hash, at=event.block_timestamp)


HANDLERS = {
    "Credited": _credited,
    "Withdrawn": _withdrawn,
    "TokenCredited": _credited,
    "TokenWithdrawn": _withdrawn,
    "Settled": _settlement_event,
    "TokenSettled": _settlement_event,
    "Claimed": _settlement_event,
    "EscrowReleased": _settlement_event,
}

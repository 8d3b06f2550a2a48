"""Licence terms: the fields, their canonical JSON form and hash, and the presets.

Modelled on Story Protocol's Programmable IP License (PIL), with AI use as first-class,
separately priced fields. Terms are identified by keccak256 of their canonical JSON (sorted
keys, no whitespace, integers as decimal strings where they may exceed 2^53): identical terms
share one hash, and any edit is a new version with a new hash.
"""

import json
from dataclasses import asdict, dataclass, field, fields, replace

from django.conf import settings
from eth_utils import keccak, to_hex

from core.chain.stablecoin import money_text
from core.money import from_units

AI_PROHIBITED, AI_FREE, AI_PAID = "prohibited", "free", "paid"
AI_CHOICES = [(AI_PROHIBITED, "prohibited"), (AI_FREE, "allowed, free"), (AI_PAID, "allowed, paid")]
AI_WORDS = {AI_FREE: "free", AI_PAID: "paid", AI_PROHIBITED: "prohibited"}
TERMS_VERSION = "cip-terms/1"
# Which models a paid AI-training licence covers. Terms written before this field existed are the
# default ("model"); the canonical form leaves a default out so their hash does not change.
AI_SCOPE_MODEL, AI_SCOPE_FAMILY, AI_SCOPE_ORG = "model", "family", "organisation"
AI_SCOPE_CHOICES = [
    (AI_SCOPE_MODEL, "the model it names (every version of it)"),
    (AI_SCOPE_FAMILY, "a model family: the model it names and models whose name extends it"),
    (AI_SCOPE_ORG, "any model the organisation trains"),
]
# AI use per fetch (an agent or crawler fetching the picture and paying with x402), priced in the
# stablecoin's smallest unit whatever the offer's currency (x402 pays with a token). Prohibited by
# default, and left out of the canonical form at its default, so older terms keep their hash.
_OMITTED_AT_DEFAULT = {
    "ai_model_scope": AI_SCOPE_MODEL,
    "ai_fetch": AI_PROHIBITED,
    "ai_fetch_price_units": "0",
}
_INTEGERS_AS_TEXT = ("ai_training_price_wei", "genai_training_price_wei", "fee_wei", "ai_fetch_price_units")


@dataclass(frozen=True)
class Terms:
    commercial_use: bool = False
    commercial_attribution: bool = True
    derivatives_allowed: bool = False
    derivatives_attribution: bool = True
    derivatives_approval: bool = False
    derivatives_reciprocal: bool = False
    derivative_rev_share_bps: int = 0
    ai_training: str = AI_PROHIBITED
    ai_training_price_wei: int = 0
    genai_training: str = AI_PROHIBITED
    genai_training_price_wei: int = 0
    ai_model_scope: str = AI_SCOPE_MODEL
    ai_fetch: str = AI_PROHIBITED
    ai_fetch_price_units: int = 0
    territory: str = "worldwide"
    duration_days: int | None = None  # None: perpetual
    transferable: bool = False
    fee_wei: int = 0
    currency: str = "ETH"
    chain_id: int = 31337
    extra: dict = field(default_factory=dict)

    def canonical(self) -> str:
        data = asdict(self)
        for key in _INTEGERS_AS_TEXT:
            data[key] = str(data[key])
        data["version"] = TERMS_VERSION
        for key, default in _OMITTED_AT_DEFAULT.items():
            if data[key] == default:
                del data[key]
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)

    def hash(self) -> str:
        return to_hex(keccak(text=self.canonical()))

    @classmethod
    def from_canonical(cls, text: str) -> "Terms":
        data = json.loads(text)
        data.pop("version", None)
        for key in _INTEGERS_AS_TEXT:
            if key in data:
                data[key] = int(data[key])
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})

    def title(self) -> str:
        """A name that says what the terms grant ("Commercial use, remixes, AI training paid"):
        an offer whose creator gave no title of their own is called this, and follows its terms
        when they are edited."""
        parts = ["Commercial use" if self.commercial_use else "Personal use"]
        if self.derivatives_allowed:
            parts.append("remixes")
        ai, genai = self.ai_training, self.genai_training
        if ai == genai:
            parts.append("no AI training" if ai == AI_PROHIBITED else f"AI training {AI_WORDS[ai]}")
        else:
            for label, choice in (("AI training", ai), ("generative AI", genai)):
                if choice != AI_PROHIBITED:
                    parts.append(f"{label} {AI_WORDS[choice]}")
        return ", ".join(parts)

    def same_grant(self, other: "Terms") -> bool:
        """The same terms whatever chain they were written for (presets name no chain)."""
        return replace(self, chain_id=0) == replace(other, chain_id=0)

    @property
    def ai_training_allowed_freely(self) -> bool:
        return self.ai_training == AI_FREE and self.genai_training == AI_FREE

    def plain_language(self) -> list[str]:
        """What the terms allow, in the words a person reads on the work page."""
        lines = []
        if self.commercial_use:
            lines.append(
                "Commercial use allowed"
                + (", with credit to the creator." if self.commercial_attribution else ".")
            )
        else:
            lines.append("Personal and non-commercial use only.")
        if not self.derivatives_allowed:
            lines.append("No remixes or derivative works.")
        else:
            parts = ["Remixes allowed"]
            if self.derivatives_approval:
                parts.append("with the creator's approval")
            if self.derivatives_attribution:
                parts.append("with credit")
            if self.derivatives_reciprocal:
                parts.append("under these same terms")
            line = ", ".join(parts) + "."
            if self.derivative_rev_share_bps:
                line += f" {self.derivative_rev_share_bps / 100:g}% of a remix's revenue goes to this work."
            lines.append(line)
        lines.append(_ai_line("AI training", self.ai_training, self.ai_training_price_wei, self.currency))
        lines.append(
            _ai_line(
                "Generative AI training", self.genai_training, self.genai_training_price_wei, self.currency
            )
        )
        if AI_PAID in (self.ai_training, self.genai_training):
            lines.append(f"A paid AI-training licence covers {scope_words(self.ai_model_scope)}.")
        if self.ai_fetch == AI_FREE:
            lines.append("AI use of a fetched copy (agents, crawlers): allowed, free.")
        elif self.ai_fetch == AI_PAID:
            lines.append(
                "AI use of a fetched copy (agents, crawlers): allowed for "
                f"{fetch_price_words(self.ai_fetch_price_units)} per fetch, paid with x402."
            )
        lines.append(f"Territory: {self.territory}.")
        lines.append("Perpetual." if self.duration_days is None else f"Valid for {self.duration_days} days.")
        lines.append("Transferable to someone else." if self.transferable else "Not transferable.")
        return lines


def fetch_price_words(units: int) -> str:
    """'0.05 tUSDC': a per-fetch price in the stablecoin."""
    return f"{from_units(units, decimals=settings.STABLECOIN_DECIMALS)} {settings.STABLECOIN_SYMBOL}"


def scope_words(scope: str) -> str:
    return dict(AI_SCOPE_CHOICES).get(scope, scope)


def _ai_line(label, choice, price, currency="ETH"):
    if choice == AI_PROHIBITED:
        return f"{label}: prohibited."
    if choice == AI_FREE:
        return f"{label}: allowed, free."
    return f"{label}: allowed for a fee of {money_text(price, currency, zero='nothing')} per work."


PRESETS = {
    "non_commercial_remix": (
        "Non-commercial social remixing",
        Terms(derivatives_allowed=True, derivatives_reciprocal=True),
    ),
    "commercial_use": ("Commercial use", Terms(commercial_use=True, fee_wei=10**16)),
    "commercial_remix": (
        "Commercial remix",
        Terms(
            commercial_use=True, derivatives_allowed=True, derivative_rev_share_bps=1000, fee_wei=2 * 10**16
        ),
    ),
    "cc_by": (
        "CC BY",
        Terms(
            commercial_use=True,
            derivatives_allowed=True,
            transferable=True,
            ai_training=AI_FREE,
            genai_training=AI_FREE,
        ),
    ),
    "ai_training": (
        "AI training licence (paid, per work)",
        Terms(
            ai_training=AI_PAID,
            ai_training_price_wei=5 * 10**15,
            genai_training=AI_PAID,
            genai_training_price_wei=10**16,
            fee_wei=10**16,
        ),
    ),
    "all_rights_reserved": ("All rights reserved / no AI", Terms()),
}


def preset_choices() -> list[tuple[str, str]]:
    """[(key, name)] of every preset, for forms outside licensing (a portfolio's terms)."""
    return [(key, name) for key, (name, _) in PRESETS.items()]

"""The uses a buyer can purchase under an offer's terms, as a bitmask shared with the contract
(LicenseMarket's `uses`): the licence itself, AI training, generative AI training.

Each use is priced by the terms: the licence by `fee_wei`, AI training and generative AI
training by their own prices when paid, nothing when free; a prohibited use cannot be bought.
What a licence grants is what was bought, plus any use the terms leave free to everyone.
"""

from dataclasses import dataclass

from core.chain.market import (
    AI_TRAINING,
    ALL_USES,
    GENAI_TRAINING,
    LABELS,
    LICENCE,
    NAMES,
    labels_of,
    names_of,
)
from core.errors import PortalError
from licensing.terms import AI_FREE, AI_PAID, AI_PROHIBITED, Terms

__all__ = ["AI_TRAINING", "ALL_USES", "GENAI_TRAINING", "LABELS", "LICENCE", "NAMES", "labels_of", "names_of"]
BY_NAME = {name: bit for bit, name in NAMES.items()}

ERR_NO_USE = "Choose at least one use to buy."
ERR_UNKNOWN_USE = "Unknown use {name!r}; choose from licence, ai_training, genai_training."
ERR_PROHIBITED = "The creator's terms prohibit {label}; it cannot be licensed."


class UseError(PortalError):
    code = "use_refused"


@dataclass(frozen=True)
class UseLine:
    use: int
    price_wei: int

    @property
    def name(self) -> str:
        return NAMES[self.use]

    @property
    def label(self) -> str:
        return LABELS[self.use]

    def as_json(self) -> dict:
        return {"use": self.name, "price_wei": str(self.price_wei)}


def _choice(terms: Terms, use: int) -> tuple[str, int]:
    """(prohibited/free/paid, price) of one use under the terms."""
    if use == LICENCE:
        return (AI_PAID if terms.fee_wei else AI_FREE), terms.fee_wei
    if use == AI_TRAINING:
        return terms.ai_training, terms.ai_training_price_wei if terms.ai_training == AI_PAID else 0
    return terms.genai_training, terms.genai_training_price_wei if terms.genai_training == AI_PAID else 0


def mask_from_names(names) -> int:
    mask = 0
    for name in names:
        if name not in BY_NAME:
            raise UseError(ERR_UNKNOWN_USE.format(name=name), code="unknown_use")
        mask |= BY_NAME[name]
    return mask


def available(terms: Terms) -> list[dict]:
    """Every use with its availability and price, for the offer card and the quote form."""
    rows = []
    for bit in NAMES:
        choice, price = _choice(terms, bit)
        rows.append(
            {
                "use": bit,
                "name": NAMES[bit],
                "label": LABELS[bit],
                "price_wei": price,
                "free": choice == AI_FREE,
                "prohibited": choice == AI_PROHIBITED,
            }
        )
    return rows


def price_lines(terms: Terms, mask: int) -> list[UseLine]:
    """One priced line per use bought; refuses nothing chosen and prohibited uses."""
    if not mask or mask & ~ALL_USES:
        raise UseError(ERR_NO_USE, code="no_use")
    lines = []
    for bit in NAMES:
        if not mask & bit:
            continue
        choice, price = _choice(terms, bit)
        if choice == AI_PROHIBITED:
            raise UseError(ERR_PROHIBITED.format(label=LABELS[bit]), code="use_prohibited")
        lines.append(UseLine(bit, price))
    return lines


def granted(terms: Terms, mask: int) -> int:
    """What a licence with these bought uses allows: the bought uses, plus the AI uses the
    terms leave free to everyone."""
    mask = int(mask)
    if terms.ai_training == AI_FREE:
        mask |= AI_TRAINING
    if terms.genai_training == AI_FREE:
        mask |= GENAI_TRAINING
    return mask

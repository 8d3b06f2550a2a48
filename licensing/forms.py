import json
from dataclasses import replace

from django import forms
from django.conf import settings

from core.chain.stablecoin import parse_units, units_text
from core.money import eth_to_wei, wei_to_eth
from licensing import uses
from licensing.terms import AI_CHOICES, AI_PAID, AI_SCOPE_CHOICES, AI_SCOPE_MODEL, PRESETS, Terms

PRESET_CHOICES = [(key, label) for key, (label, _) in PRESETS.items()]


class EthField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        if value in ("", None):
            return 0
        try:
            return eth_to_wei(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc))


def _amount_text(amount: int, currency: str) -> str:
    return wei_to_eth(amount) if currency == "ETH" else units_text(amount)


def _parse_amount(text: str, currency: str) -> int:
    if not text:
        return 0
    return eth_to_wei(text) if currency == "ETH" else parse_units(text)


class TokenField(forms.CharField):
    """An amount in the stablecoin ('0.05'), to its smallest unit: exact, never a float."""

    def to_python(self, value):
        value = super().to_python(value)
        if value in ("", None):
            return 0
        try:
            return parse_units(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc))


class AmountField(forms.CharField):
    """A price as typed ('0.01'), parsed in OfferForm.clean by the offer's currency."""

    def to_python(self, value):
        return (super().to_python(value) or "").strip()


def currency_choices():
    return [
        ("ETH", "ETH"),
        (settings.STABLECOIN_SYMBOL, f"{settings.STABLECOIN_SYMBOL} (a dollar stablecoin)"),
    ]


PRICE_FIELDS = ("fee_eth", "ai_training_price_eth", "genai_training_price_eth")


class OfferForm(forms.Form):
    preset = forms.ChoiceField(choices=PRESET_CHOICES)
    currency = forms.ChoiceField(
        choices=currency_choices,
        initial="ETH",
        required=False,
        help_text="One currency per offer: the licence and AI-training prices are in it. "
        "AI use per fetch is always paid in the stablecoin.",
    )
    title = forms.CharField(
        max_length=120,
        required=False,
        help_text="Shown to buyers. Leave it empty and the offer is named after what it grants.",
    )
    fee_eth = AmountField(label="Licence fee", required=False)
    commercial_use = forms.BooleanField(required=False)
    commercial_attribution = forms.BooleanField(required=False, label="Commercial use requires credit")
    derivatives_allowed = forms.BooleanField(required=False, label="Remixes / derivatives allowed")
    derivatives_attribution = forms.BooleanField(required=False, label="Remixes must credit")
    derivatives_approval = forms.BooleanField(required=False, label="Remixes need my approval")
    derivatives_reciprocal = forms.BooleanField(required=False, label="Remixes under the same terms")
    derivative_rev_share_pct = forms.DecimalField(
        required=False, min_value=0, max_value=100, decimal_places=2, label="Remix revenue share (%)"
    )
    ai_training = forms.ChoiceField(choices=AI_CHOICES, label="AI training")
    ai_training_price_eth = AmountField(required=False, label="AI training price per work")
    genai_training = forms.ChoiceField(choices=AI_CHOICES, label="Generative AI training")
    genai_training_price_eth = AmountField(required=False, label="Generative AI training price per work")
    ai_model_scope = forms.ChoiceField(
        choices=AI_SCOPE_CHOICES,
        initial=AI_SCOPE_MODEL,
        label="A paid AI-training licence covers",
        help_text="An AI company buys it for a named model; this says how far that name reaches.",
    )
    ai_fetch = forms.ChoiceField(
        choices=AI_CHOICES,
        initial="prohibited",
        required=False,
        label="AI use of a fetched copy (agents, crawlers)",
        help_text="An automated client fetching the picture to use it as a model's input. Paid: it "
        "pays per fetch in the stablecoin (x402), split like any sale.",
    )
    ai_fetch_price = TokenField(required=False, label=f"Price per fetch ({settings.STABLECOIN_SYMBOL})")
    territory = forms.CharField(max_length=80, initial="worldwide")
    duration_days = forms.IntegerField(
        required=False, min_value=1, max_value=36500, help_text="Empty: perpetual"
    )
    transferable = forms.BooleanField(required=False)

    @classmethod
    def initial_for(cls, preset: str) -> dict:
        _, terms = PRESETS.get(preset, PRESETS["commercial_use"])
        return cls.initial_from(terms, preset=preset if preset in PRESETS else "commercial_use", title="")

    @classmethod
    def initial_from(cls, terms: Terms, *, preset: str, title: str) -> dict:
        """The form filled with `terms` (a preset's, or an offer's being edited)."""
        return {
            "preset": preset,
            "title": title,
            "currency": terms.currency,
            "fee_eth": _amount_text(terms.fee_wei, terms.currency),
            "commercial_use": terms.commercial_use,
            "commercial_attribution": terms.commercial_attribution,
            "derivatives_allowed": terms.derivatives_allowed,
            "derivatives_attribution": terms.derivatives_attribution,
            "derivatives_approval": terms.derivatives_approval,
            "derivatives_reciprocal": terms.derivatives_reciprocal,
            "derivative_rev_share_pct": terms.derivative_rev_share_bps / 100,
            "ai_training": terms.ai_training,
            "ai_training_price_eth": _amount_text(terms.ai_training_price_wei, terms.currency),
            "genai_training": terms.genai_training,
            "genai_training_price_eth": _amount_text(terms.genai_training_price_wei, terms.currency),
            "ai_model_scope": terms.ai_model_scope,
            "ai_fetch": terms.ai_fetch,
            "ai_fetch_price": units_text(terms.ai_fetch_price_units),
            "territory": terms.territory,
            "duration_days": terms.duration_days,
            "transferable": terms.transferable,
        }

    @classmethod
    def preset_cards(cls) -> list[dict]:
        """Each preset with its plain-language summary, for the preset picker."""
        return [
            {
                "key": key,
                "label": label,
                "summary": [
                    line
                    for line in terms.plain_language()
                    if not line.startswith(("Territory", "Perpetual", "Not transferable"))
                ],
                "fee_wei": terms.fee_wei,
                "initial": json.dumps(
                    {k: (v if v is not None else "") for k, v in cls.initial_for(key).items()}, default=str
                ),
            }
            for key, (label, terms) in PRESETS.items()
        ]

    def clean(self):
        data = super().clean()
        # left out (an older form, a script): ETH, and no AI use per fetch
        currency = data["currency"] = data.get("currency") or "ETH"
        data["ai_fetch"] = data.get("ai_fetch") or "prohibited"
        for name in PRICE_FIELDS:
            try:
                data[name] = _parse_amount(data.get(name, ""), currency)
            except ValueError as exc:
                self.add_error(name, str(exc))
                data[name] = 0
        for choice, price in (
            ("ai_training", "ai_training_price_eth"),
            ("genai_training", "genai_training_price_eth"),
            ("ai_fetch", "ai_fetch_price"),
        ):
            if data.get(choice) == AI_PAID and not data.get(price):
                self.add_error(price, "Set a price, or choose free or prohibited.")
            if data.get(choice) != AI_PAID and data.get(price):
                data[price] = 0
        if data.get("derivative_rev_share_pct") and not data.get("derivatives_allowed"):
            self.add_error(
                "derivative_rev_share_pct", "A revenue share only applies when remixes are allowed."
            )
        return data

    def terms(self, *, chain_id: int) -> Terms:
        d = self.cleaned_data
        share = d.get("derivative_rev_share_pct") or 0
        return replace(
            Terms(),
            commercial_use=d["commercial_use"],
            commercial_attribution=d["commercial_attribution"],
            derivatives_allowed=d["derivatives_allowed"],
            derivatives_attribution=d["derivatives_attribution"],
            derivatives_approval=d["derivatives_approval"],
            derivatives_reciprocal=d["derivatives_reciprocal"],
            derivative_rev_share_bps=int(share * 100),
            ai_training=d["ai_training"],
            ai_training_price_wei=d["ai_training_price_eth"],
            genai_training=d["genai_training"],
            genai_training_price_wei=d["genai_training_price_eth"],
            ai_model_scope=d["ai_model_scope"],
            ai_fetch=d["ai_fetch"],
            ai_fetch_price_units=d["ai_fetch_price"],
            territory=d["territory"].strip() or "worldwide",
            duration_days=d["duration_days"],
            transferable=d["transferable"],
            fee_wei=d["fee_eth"],
            currency=d["currency"],
            chain_id=chain_id,
        )


SORTS = {
    "recent": ("-listed_at", "-work_id"),
    "price": ("min_fee_wei", "work_id"),
    "-price": ("-min_fee_wei", "-work_id"),
    "title": ("title", "work_id"),
}


class CatalogueFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search")
    licence = forms.ChoiceField(required=False, choices=[("", "Any licence"), *PRESET_CHOICES])
    ai = forms.ChoiceField(
        required=False,
        label="AI training",
        choices=[
            ("", "Any AI terms"),
            ("allowed", "AI training allowed"),
            ("free", "AI training free"),
            ("paid", "AI training paid"),
            ("prohibited", "AI training prohibited"),
        ],
    )
    min_price = EthField(required=False, label="Min price (ETH)")
    max_price = EthField(required=False, label="Max price (ETH)")
    creator = forms.CharField(
        required=False, max_length=80, help_text="A display name or a wallet address (0x…)."
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[
            ("recent", "Newest"),
            ("price", "Price: low to high"),
            ("-price", "Price: high to low"),
            ("title", "Title"),
        ],
    )


class QuoteForm(forms.Form):
    """Which uses of an offer the buyer is buying."""

    uses = forms.MultipleChoiceField(
        choices=[(name, uses.LABELS[bit]) for bit, name in uses.NAMES.items()],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, terms: Terms, **kwargs):
        super().__init__(*args, **kwargs)
        self.terms = terms

    def clean(self):
        data = super().clean()
        names = data.get("uses") or []
        if not names:
            raise forms.ValidationError(uses.ERR_NO_USE)
        mask = uses.mask_from_names(names)
        try:
            uses.price_lines(self.terms, mask)
        except uses.UseError as exc:
            raise forms.ValidationError(exc.message)
        data["uses_mask"] = mask
        return data

    def errors_text(self) -> list[str]:
        return [str(e) for errors in self.errors.values() for e in errors]


ERR_CERTIFICATE_INPUT = "Paste the certificate's JSON or choose its .json file."
ERR_CERTIFICATE_JSON = "That is not valid JSON: {detail}."
MAX_CERTIFICATE_BYTES = 64 * 1024


class CertificateForm(forms.Form):
    text = forms.CharField(
        required=False,
        label="Certificate JSON",
        max_length=MAX_CERTIFICATE_BYTES,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "mono"}),
    )
    file = forms.FileField(required=False, label="or its .json file")

    def clean(self):
        data = super().clean()
        raw = data.get("text") or ""
        upload = data.get("file")
        if upload:
            if upload.size > MAX_CERTIFICATE_BYTES:
                raise forms.ValidationError(ERR_CERTIFICATE_INPUT)
            raw = upload.read().decode("utf-8", errors="replace")
        if not raw.strip():
            raise forms.ValidationError(ERR_CERTIFICATE_INPUT)
        try:
            document = json.loads(raw)
        except ValueError as exc:
            raise forms.ValidationError(ERR_CERTIFICATE_JSON.format(detail=exc))
        if not isinstance(document, dict):
            raise forms.ValidationError(ERR_CERTIFICATE_INPUT)
        data["document"] = document
        return data

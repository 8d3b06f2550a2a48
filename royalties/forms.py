from datetime import timedelta

from django import forms
from django.utils import timezone

PERIODS = [
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("365", "Last 12 months"),
    ("all", "All time"),
    ("custom", "Dates…"),
]
ERR_DATES = "The start date must be on or before the end date."
ERR_PERCENT = "Enter a share between 0.01 and 100 %."


class EarningsFilterForm(forms.Form):
    period = forms.ChoiceField(choices=PERIODS, required=False, initial="all")
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    work = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Work")

    def __init__(self, *args, works=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["work"].choices = [("", "All works"), *works]

    def clean(self):
        data = super().clean()
        period = data.get("period") or "all"
        today = timezone.now().date()
        if period in ("30", "90", "365"):
            data["start"], data["end"] = today - timedelta(days=int(period) - 1), today
        elif period == "all":
            data["start"] = data["end"] = None
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(ERR_DATES)
        return data


class SplitPartyForm(forms.Form):
    address = forms.CharField(
        max_length=42, required=False, widget=forms.TextInput(attrs={"placeholder": "0x…", "class": "mono"})
    )
    role = forms.CharField(
        max_length=60, required=False, widget=forms.TextInput(attrs={"placeholder": "illustrator"})
    )
    percent = forms.DecimalField(required=False, min_value=0, max_value=100, decimal_places=2)

    def clean(self):
        data = super().clean()
        if not data.get("address") and not data.get("role") and data.get("percent") in (None, ""):
            data["empty"] = True
            return data
        percent = data.get("percent")
        if percent is None or percent <= 0:
            self.add_error("percent", ERR_PERCENT)
        data["bps"] = int(percent * 100) if percent else 0
        return data


SplitPartyFormSet = forms.formset_factory(SplitPartyForm, extra=3, max_num=20, absolute_max=20)


def parties_from(formset) -> list[tuple[str, str, int]]:
    return [
        (f.cleaned_data["address"].strip(), f.cleaned_data["role"], f.cleaned_data["bps"])
        for f in formset.forms
        if f.cleaned_data and not f.cleaned_data.get("empty")
    ]

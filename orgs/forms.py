from django import forms

from orgs.models import ApiKey, Membership


class OrgForm(forms.Form):
    name = forms.CharField(max_length=120, label="Organisation name")


class MemberForm(forms.Form):
    address = forms.CharField(
        max_length=42,
        label="Wallet address",
        widget=forms.TextInput(attrs={"class": "mono", "placeholder": "0x…"}),
    )
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)


class WalletForm(forms.Form):
    address = forms.CharField(
        max_length=42,
        label="Paying wallet",
        widget=forms.TextInput(attrs={"class": "mono", "placeholder": "0x…"}),
    )


class KeyForm(forms.Form):
    name = forms.CharField(max_length=80, label="Key name", help_text="e.g. “training pipeline”")
    scopes = forms.MultipleChoiceField(
        choices=ApiKey.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[ApiKey.Scope.READ],
    )
    rate_per_minute = forms.IntegerField(
        min_value=1, max_value=100_000, initial=120, label="Requests per minute"
    )

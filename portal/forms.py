from django import forms

from core.services import ERR_DISPLAY_NAME_BLANK


class ProfileForm(forms.Form):
    display_name = forms.CharField(
        max_length=80,
        required=False,
        help_text="Shown on your works, licences and certificates instead of your wallet address.",
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )
    email = forms.EmailField(
        required=False,
        label="E-mail (optional)",
        help_text="Only to tell you about sales, disputes and where your work was found. Never shown.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def clean_display_name(self):
        value = self.cleaned_data["display_name"]
        if value and not value.strip():
            raise forms.ValidationError(ERR_DISPLAY_NAME_BLANK)
        return value.strip()

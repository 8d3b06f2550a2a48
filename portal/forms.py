from django import forms


class ProfileForm(forms.Form):
    display_name = forms.CharField(
        max_length=80,
        required=False,
        help_text="Shown on your works and licences instead of your wallet address.",
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )

    def clean_display_name(self):
        value = self.cleaned_data["display_name"]
        if value and not value.strip():
            from portal.services import ERR_DISPLAY_NAME_BLANK

            raise forms.ValidationError(ERR_DISPLAY_NAME_BLANK)
        return value.strip()

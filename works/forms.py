from django import forms

from core.errors import PortalError
from works import hooks
from works.validation import InvalidImage, image_check

ERR_ONE_FILE = "Upload one file at a time."
ERR_TOO_MANY_TAGS = "Use at most 20 tags."
ERR_SHA256 = "A SHA-256 is 64 hexadecimal characters."


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Image",
        help_text="JPEG, PNG or WebP; the original stays private, the public sees a preview.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    title = forms.CharField(max_length=200)
    description = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 4}))
    tags = forms.CharField(
        max_length=500, required=False, help_text="Comma-separated, e.g. ink, portrait, 2026"
    )

    parents = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        label="Derived from",
        help_text=(
            "Works you hold a licence to that allows derivatives. "
            "Each earns its share of every sale of this one."
        ),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, files_sent: int = 0, user=None, **kwargs):
        from works.models import Work

        super().__init__(*args, **kwargs)
        self.files_sent = files_sent
        self.user = user
        self.fields["parents"].queryset = hooks.derivable_parents(user=user) if user else Work.objects.none()
        self.parent_specs = []

    def clean_parents(self):
        parents = list(self.cleaned_data.get("parents") or [])
        if parents:
            try:
                self.parent_specs = hooks.derivation_check(user=self.user, parents=parents)
            except PortalError as exc:
                raise forms.ValidationError(exc.message)
        return parents

    def clean_file(self):
        if self.files_sent > 1:
            raise forms.ValidationError(ERR_ONE_FILE)
        uploaded = self.cleaned_data["file"]
        try:
            self.checked = image_check(uploaded)
        except InvalidImage as exc:
            raise forms.ValidationError(exc.message)
        return uploaded

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError("Give the work a title.")
        return title

    def clean_tags(self):
        tags = [t.strip().lower()[:40] for t in self.cleaned_data["tags"].split(",") if t.strip()]
        unique = list(dict.fromkeys(tags))
        if len(unique) > 20:
            raise forms.ValidationError(ERR_TOO_MANY_TAGS)
        return unique


class VerifyForm(forms.Form):
    file = forms.FileField(required=False, label="File to check")
    sha256 = forms.RegexField(
        regex=r"^(0x)?[0-9a-fA-F]{64}$",
        required=False,
        label="or its SHA-256",
        error_messages={"invalid": ERR_SHA256},
    )

    def clean(self):
        data = super().clean()
        if not data.get("file") and not data.get("sha256"):
            raise forms.ValidationError("Choose a file or paste a SHA-256.")
        return data


class PortfolioForm(forms.Form):
    title = forms.CharField(
        max_length=200, required=False, help_text="For you only, e.g. “Sketchbook 2024”.", label="Name"
    )
    preset = forms.ChoiceField(
        label="Licence terms for every work",
        required=False,
        help_text="Offered for each work once it is registered; you can change any work's terms later.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preset"].choices = [("", "No offer for now"), *hooks.licence_presets()]

from django import forms

from orgs.models import Membership


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".parquet,.csv,.tar"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class AuditForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="e.g. the dataset's name and version")
    files = MultipleFileField(
        help_text="CommonPool-style .parquet manifests, .csv with url and/or sha256, img2dataset .tar shards"
    )
    org = forms.ChoiceField(label="Run as", required=False)
    sample = forms.DecimalField(
        label="Sample (%)",
        min_value=0.001,
        max_value=100,
        decimal_places=3,
        initial=100,
        required=False,
        help_text="audit a uniform random part and get an estimate for the whole set (100 = everything)",
    )
    reveal_auditor = forms.BooleanField(
        required=False, label="Let creators whose works are found see who ran this audit"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        memberships = Membership.objects.filter(user=user).select_related("org")
        self.fields["org"].choices = [("", "myself")] + [(str(m.org_id), m.org.name) for m in memberships]

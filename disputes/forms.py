from django import forms

from audits.forms import MultipleFileField, MultipleFileInput
from disputes.models import Dispute
from licensing.models import Licence
from orgs.models import Membership, Organisation
from training.models import TrainingLicence, TrainingRunWork

EVIDENCE_ACCEPT = ".jpg,.jpeg,.png,.webp,.pdf,.txt"


def _files_field():
    return MultipleFileField(
        required=False,
        label="Evidence files",
        widget=MultipleFileInput(attrs={"accept": EVIDENCE_ACCEPT}),
        help_text=(
            "Your own copy of the image (we compute its SHA-256 and how close it is to the disputed "
            "work, and find your own registration of it), or documents: PDF or text. Up to 10 MB each."
        ),
    )


class _UrlFields(forms.Form):
    url = forms.URLField(
        required=False,
        max_length=2000,
        label="Where it was published",
        assume_scheme="https",
        help_text="A page that shows the work, e.g. where you published it first.",
    )
    url_date = forms.DateField(
        required=False,
        label="Published on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The date that page shows.",
    )

    def urls(self):
        url = self.cleaned_data.get("url")
        return [(url, self.cleaned_data.get("url_date"), "")] if url else []


class DisputeForm(_UrlFields):
    kind = forms.ChoiceField(
        choices=Dispute.Kind.choices,
        widget=forms.RadioSelect,
        label="What is wrong",
        help_text=(
            "Improper registration: this is your work, registered by someone else. Improper use: used "
            "beyond its licence, or for AI training its terms prohibit. Improper payment: money went to "
            "the wrong party. Content standards: the work breaks the portal's rules."
        ),
    )
    statement = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        min_length=20,
        max_length=5000,
        help_text="What happened, and why it is wrong. Both parties and the moderators read it.",
    )
    against = forms.ChoiceField(required=False, label="Against")
    files = _files_field()
    field_order = ["kind", "against", "statement", "files", "url", "url_date"]

    def __init__(self, *args, work, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.is_owner = work.owner_id == user.pk
        if self.is_owner:
            self.fields["kind"].choices = [
                c for c in Dispute.Kind.choices if c[0] in (Dispute.Kind.USE, Dispute.Kind.PAYMENT)
            ]
            self.fields["against"].choices = [("", "choose a licensee")] + against_choices(work)
            self.fields["against"].required = True
        else:
            del self.fields["against"]

    def parties(self):
        """(respondent user, respondent organisation) named by `against`; (None, None) when the
        filer is not the owner (the owner answers)."""
        from django.contrib.auth import get_user_model

        kind, _, pk = self.cleaned_data.get("against", "").partition(":")
        if kind == "user":
            return get_user_model().objects.filter(pk=int(pk)).first(), None
        if kind == "org":
            org = Organisation.objects.filter(pk=int(pk)).first()
            admin = (
                Membership.objects.filter(org=org, role=Membership.Role.ADMIN)
                .select_related("user")
                .order_by("pk")
                .first()
            )
            return (admin.user if admin else None), org
        return None, None


def against_choices(work) -> list[tuple[str, str]]:
    """Who the owner of a work can dispute a use or payment with: its licensees and the
    organisations that licensed it for training or reported training on it."""

    choices = []
    for licence in Licence.objects.filter(work=work).select_related("licensee__profile").order_by("pk"):
        key = f"user:{licence.licensee_id}"
        if key not in dict(choices):
            name = getattr(licence.licensee, "profile", None)
            label = (name.display_name if name and name.display_name else "") or licence.licensee.username
            choices.append((key, f"{label} (licence #{licence.pk})"))
    org_ids = set(TrainingLicence.objects.filter(work=work).values_list("org_id", flat=True)) | set(
        TrainingRunWork.objects.filter(work=work).values_list("run__org_id", flat=True)
    )
    for org in Organisation.objects.filter(pk__in=org_ids).order_by("name"):
        choices.append((f"org:{org.pk}", f"{org.name} (organisation)"))
    return choices


class EvidenceForm(_UrlFields):
    files = _files_field()
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class ReplyForm(forms.Form):
    text = forms.CharField(label="Reply", max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("uphold", "Uphold: the claim is right"), ("reject", "Reject: the claim is wrong")],
        widget=forms.RadioSelect,
    )
    revoke = forms.BooleanField(
        required=False,
        initial=True,
        label="Revoke the registration (improper registration and content standards, when upheld)",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
        help_text="Both parties read this.",
    )
    urgent_reason = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why this cannot wait for the respondent's answer",
        help_text="Only to uphold before the reply window ends without an answer "
        "(e.g. content that breaks the standards). Both parties read it.",
    )

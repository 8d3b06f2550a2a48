"""The moderation queue: open disputes oldest first, each shown with its evidence side by side,
and the decision form. Only staff with the `works.moderate` permission see or decide them."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from core.admin import ReadOnlyAdmin
from core.http import REFUSALS, form_refusal
from core.people import user_label
from disputes import selectors
from disputes.flows import decision as decisions
from disputes.forms import DecisionForm
from disputes.models import Dispute, DisputeEvent, EscrowRelease
from works.models import is_moderator


class ModeratorOnly(ReadOnlyAdmin):
    """Read-only records that only moderators see; decisions go through the dispute's own pages."""

    def has_module_permission(self, request):
        return is_moderator(request.user)

    def has_view_permission(self, request, obj=None):
        return is_moderator(request.user)


def _anchor(work):
    """(when, tx, root) of a work's registration anchor; `when` falls back to its signing."""
    registration = getattr(work, "registration", None)
    if registration is None:
        return None, None, None, None
    batch = registration.batch
    tx = batch.transaction if batch else None
    anchored = batch.block_timestamp if batch else None
    return (
        anchored,
        registration.signed_at,
        (tx.mined_hash or tx.tx_hash) if tx else None,
        batch.root if batch else None,
    )


def _side(work, *, distance=None):
    if work is None:
        return None
    anchored, signed, tx, root = _anchor(work)
    return {
        "work": work,
        "anchored": anchored,
        "signed": signed,
        "tx": tx,
        "root": root,
        "distance": distance,
        "when": anchored or signed,
    }


@admin.register(Dispute)
class DisputeAdmin(ModeratorOnly):
    list_display = ["id", "kind", "work", "status", "age", "source", "claimant_name", "respondent_name"]
    list_filter = ["status", "kind", "source"]
    search_fields = ["work__title", "work__sha256", "claimant__username", "respondent__username"]
    list_select_related = ["work", "claimant__profile", "respondent__profile"]

    def get_queryset(self, request):
        # Open first, then oldest first, then by kind (registration disputes pause sales).
        kinds = [When(kind=k, then=Value(i)) for i, k in enumerate(Dispute.Kind.values)]
        return (
            super()
            .get_queryset(request)
            .annotate(
                open_first=Case(When(status=Dispute.Status.OPEN, then=Value(0)), default=Value(1)),
                kind_rank=Case(*kinds, output_field=IntegerField()),
            )
            .order_by("open_first", "created_at", "kind_rank", "pk")
        )

    @staticmethod
    def _name(user):
        return user_label(user, short=True)

    @admin.display(description="claimant")
    def claimant_name(self, obj):
        return self._name(obj.claimant)

    @admin.display(description="respondent")
    def respondent_name(self, obj):
        return self._name(obj.respondent)

    @admin.display(description="age")
    def age(self, obj):
        days = (timezone.now() - obj.created_at).days
        return "today" if days == 0 else f"{days} day{'s' if days != 1 else ''}"

    def get_urls(self):
        return [
            path(
                "<int:pk>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="disputes_dispute_decide",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not is_moderator(request.user):
            raise PermissionDenied
        dispute = self._dispute(object_id)
        return self._render(request, dispute, DecisionForm(initial={"revoke": True}))

    def _dispute(self, pk):
        dispute = (
            Dispute.objects.select_related(
                "work__registration__batch__transaction",
                "work__owner__profile",
                "rightful_work__registration__batch__transaction",
                "claimant__profile",
                "respondent__profile",
                "respondent_org",
                "decided_by",
            )
            .filter(pk=pk)
            .first()
        )
        if dispute is None:
            raise Http404("No such dispute.")
        return dispute

    def _render(self, request, dispute, form, status=200):
        evidence = selectors.dispute_evidence(dispute)
        disputed = _side(dispute.work)
        theirs = [
            _side(e.own_work, distance=e.pdq_distance)
            for e in evidence
            if e.own_work_id and e.own_work_id != dispute.work_id
        ]
        if dispute.rightful_work_id and not any(s["work"].pk == dispute.rightful_work_id for s in theirs):
            theirs.insert(0, _side(dispute.rightful_work))
        earliest = min([s["when"] for s in [disputed, *theirs] if s and s["when"]], default=None)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Dispute #{dispute.pk}: {dispute.get_kind_display()}",
            "opts": self.model._meta,
            "dispute": dispute,
            "disputed": disputed,
            "theirs": theirs,
            "earliest": earliest,
            "evidence": evidence,
            "events": selectors.dispute_timeline(dispute),
            "respondent_answered": selectors.respondent_answered(dispute=dispute),
            "history": {
                "claimant": selectors.party_history(user=dispute.claimant),
                "respondent": selectors.party_history(user=dispute.respondent),
            },
            "form": form,
            "releases": EscrowRelease.objects.filter(dispute=dispute).select_related("line", "transaction"),
        }
        return TemplateResponse(request, "admin/disputes/dispute/decide.html", context, status=status)

    def decide_view(self, request, pk):
        if not is_moderator(request.user):
            raise PermissionDenied
        dispute = self._dispute(pk)
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:disputes_dispute_change", args=[pk]))
        form = DecisionForm(request.POST)
        if not form.is_valid():
            return self._render(request, dispute, form, status=400)
        try:
            decisions.dispute_decide(
                dispute=dispute,
                moderator=request.user,
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
                revoke=form.cleaned_data["revoke"],
                urgent_reason=form.cleaned_data["urgent_reason"],
            )
        except REFUSALS as exc:
            return self._render(request, dispute, form, status=form_refusal(form, exc))
        self.message_user(request, f"Dispute #{dispute.pk} {dispute.get_status_display()}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:disputes_dispute_changelist"))


@admin.register(DisputeEvent)
class DisputeEventAdmin(ModeratorOnly):
    list_display = ["created_at", "dispute", "actor", "action", "text"]
    list_filter = ["action"]
    list_select_related = ["dispute", "actor"]


@admin.register(EscrowRelease)
class EscrowReleaseAdmin(ModeratorOnly):
    list_display = ["created_at", "dispute", "line", "to", "amount", "status"]
    list_select_related = ["dispute", "line"]

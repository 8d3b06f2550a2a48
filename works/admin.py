from django.contrib import admin, messages
from django.utils.html import format_html

from core.admin import ReadOnlyAdmin
from core.errors import PortalError
from works import hooks, services
from works.models import AnchorBatch, Registration, Work


class VisibleWorksOnly:
    """Admin lists and pages show a work (or a row about one) only when the visibility rule lets
    this staff member see it (`WorkQuerySet.visible_to`): never another person's unsigned draft,
    whatever their permissions. `work_path` leads from the model to its work."""

    work_path = "work"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        visible = Work.objects.visible_to(request.user).values("pk")
        return queryset.filter(**{f"{self.work_path}__in" if self.work_path else "pk__in": visible})


class RegistrationInline(admin.StackedInline):
    model = Registration
    can_delete = False
    extra = 0
    readonly_fields = [f.name for f in Registration._meta.fields]


@admin.register(Work)
class WorkAdmin(VisibleWorksOnly, admin.ModelAdmin):
    work_path = ""
    list_display = ["id", "title", "creator_address", "status", "created_at"]
    list_filter = ["registration__status"]
    search_fields = ["title", "creator_address", "sha256", "pdq"]
    readonly_fields = [
        "sha256",
        "pdq",
        "pdq_quality",
        "width",
        "height",
        "size",
        "mime",
        "creator_address",
        "preview_img",
    ]
    list_select_related = ["registration"]
    inlines = [RegistrationInline]

    @admin.display(description="status")
    def status(self, obj):
        return obj.registration.get_status_display()

    @admin.display(description="preview")
    def preview_img(self, obj):
        return (
            format_html('<img src="{}" style="max-width:320px">', obj.thumbnail.url) if obj.thumbnail else ""
        )


@admin.register(Registration)
class RegistrationAdmin(VisibleWorksOnly, admin.ModelAdmin):
    list_display = ["id", "work", "status", "signed_at", "batch", "hold_summary"]
    list_filter = ["status"]
    search_fields = ["work__title", "work__creator_address", "digest"]
    readonly_fields = [f.name for f in Registration._meta.fields]
    list_select_related = ["work", "batch"]
    actions = ["release", "reject"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="match")
    def hold_summary(self, obj):
        if not obj.hold_evidence:
            return ""
        first = obj.hold_evidence[0]
        kind = "identical file" if first["exact"] else f"PDQ distance {first['distance']}"
        if not first["exact"] and first.get("inliers"):
            kind += f", {first['inliers']} keypoints agree"
        return f"work #{first['work_id']} by {first['creator_address'][:10]}… ({kind})"

    def _apply(self, request, queryset, service, verb, decision):
        """A held registration's dispute is decided with it (the dispute's log says who and why);
        one without a dispute (held before disputes existed) goes through the service alone."""

        done = 0
        for registration in queryset:
            try:
                decided = registration.status == Registration.Status.HELD and hooks.held_registration_decide(
                    registration=registration,
                    moderator=request.user,
                    decision=decision,
                    reason=f"{verb} from the list of held registrations.",
                )
                if not decided:
                    service(registration=registration)
                done += 1
            except PortalError as exc:
                self.message_user(request, f"#{registration.pk}: {exc.message}", messages.WARNING)
        if done:
            self.message_user(request, f"{verb} {done} registration(s).", messages.SUCCESS)

    @admin.action(description="Release held registrations for anchoring")
    def release(self, request, queryset):
        self._apply(request, queryset, services.registration_release, "Released", "reject")

    @admin.action(description="Reject held registrations")
    def reject(self, request, queryset):
        self._apply(request, queryset, services.registration_reject, "Rejected", "uphold")


@admin.register(AnchorBatch)
class AnchorBatchAdmin(ReadOnlyAdmin):
    list_display = ["id", "root", "size", "status", "block_number", "block_timestamp"]
    list_filter = ["status"]

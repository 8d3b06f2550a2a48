from django.contrib import admin

from core.admin import ReadOnlyAdmin
from training.models import Invoice, TrainingLicence, TrainingRun


@admin.register(TrainingLicence)
class TrainingLicenceAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "work",
        "org",
        "purpose",
        "model_name",
        "model_scope",
        "price_wei",
        "status",
        "issued_at",
    ]
    list_filter = ["status", "purpose", "model_scope"]
    search_fields = ["org__name", "model_name", "work__title"]
    list_select_related = ["work", "org"]


@admin.register(TrainingRun)
class TrainingRunAdmin(ReadOnlyAdmin):
    list_display = [
        "run_id",
        "org",
        "model_name",
        "model_version",
        "purpose",
        "works_reported",
        "reported_at",
    ]
    list_filter = ["purpose"]
    search_fields = ["run_id", "org__name", "model_name"]
    list_select_related = ["org"]


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["id", "org", "run", "total_wei", "status", "created_at", "paid_at"]
    list_filter = ["status"]
    search_fields = ["org__name", "run__run_id"]
    list_select_related = ["org", "run"]

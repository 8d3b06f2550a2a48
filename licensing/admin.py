from django.contrib import admin

from core.admin import ReadOnlyAdmin
from licensing.models import CatalogueEntry, Licence, LicenceTerms, Offer, Quote
from works.admin import VisibleWorksOnly


@admin.register(LicenceTerms)
class LicenceTermsAdmin(ReadOnlyAdmin):
    list_display = ["terms_hash", "preset", "commercial_use", "ai_training", "genai_training", "fee_wei"]
    list_filter = ["preset", "ai_training", "commercial_use"]
    search_fields = ["terms_hash"]


@admin.register(Offer)
class OfferAdmin(VisibleWorksOnly, admin.ModelAdmin):
    list_display = ["id", "title", "work", "status", "created_at"]
    list_filter = ["status"]
    list_select_related = ["work"]
    readonly_fields = ["work", "terms", "replaces", "created_at", "withdrawn_at"]


@admin.register(Quote)
class QuoteAdmin(ReadOnlyAdmin):
    list_display = ["quote_id", "offer", "buyer_address", "uses", "price_wei", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["quote_id", "buyer_address"]


@admin.register(Licence)
class LicenceAdmin(ReadOnlyAdmin):
    list_display = ["id", "work", "licensee_address", "uses", "price_wei", "status", "tx_hash", "issued_at"]
    list_filter = ["status"]
    search_fields = ["licensee_address", "tx_hash", "work__title"]
    list_select_related = ["work"]


@admin.register(CatalogueEntry)
class CatalogueEntryAdmin(ReadOnlyAdmin):
    list_display = ["work_id", "title", "min_fee_wei", "ai_training", "presets", "listed_at"]
    list_filter = ["ai_training"]

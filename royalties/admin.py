from django.contrib import admin
from django.utils.html import format_html, format_html_join

from core.admin import ReadOnlyAdmin
from royalties.models import (
    EarningsDay,
    JournalEntry,
    JournalLine,
    LedgerAccount,
    ReconciliationRun,
    SplitParty,
    SplitSheet,
)
from works.admin import VisibleWorksOnly


class PartyInline(admin.TabularInline):
    model = SplitParty
    extra = 0
    can_delete = False
    readonly_fields = ["address", "role", "bps", "accepted_at", "declined_at", "signature"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SplitSheet)
class SplitSheetAdmin(VisibleWorksOnly, ReadOnlyAdmin):
    list_display = [
        "work",
        "version",
        "status",
        "owner_address",
        "created_at",
        "accepted_at",
        "first_used_at",
    ]
    list_filter = ["status"]
    search_fields = ["work__title", "owner_address", "parties__address"]
    inlines = [PartyInline]


class LineInline(admin.TabularInline):
    model = JournalLine
    extra = 0
    can_delete = False
    readonly_fields = [
        "account",
        "amount",
        "earning",
        "role",
        "party_role",
        "bps",
        "work",
        "sold_work",
        "counterparty",
    ]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "key", "tx_hash", "occurred_at"]
    list_filter = ["kind"]
    search_fields = ["key", "tx_hash"]
    inlines = [LineInline]


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ["kind", "address", "currency"]
    list_filter = ["kind"]
    search_fields = ["address"]


@admin.register(EarningsDay)
class EarningsDayAdmin(ReadOnlyAdmin):
    list_display = ["account", "day", "amount", "lines"]
    search_fields = ["account__address"]


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "block_number", "verdict", "checked", "note"]
    list_filter = ["ok"]
    readonly_fields = ["created_at", "block_number", "ok", "checked", "surplus_wei", "note", "mismatch_table"]
    fields = readonly_fields

    @admin.display(description="verdict", boolean=False)
    def verdict(self, obj):
        if obj.ok:
            return format_html('<span style="color:#13795b">agree</span>')
        return format_html('<strong style="color:#b42318">{} mismatch(es)</strong>', len(obj.mismatches))

    @admin.display(description="mismatches")
    def mismatch_table(self, obj):
        if not obj.mismatches:
            return "none"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((m["what"], m["address"], m["ledger"], m["chain"]) for m in obj.mismatches),
        )
        head = "<tr><th>what</th><th>address</th><th>ledger (wei)</th><th>chain (wei)</th></tr>"
        return format_html("<table>{}{}</table>", format_html(head), rows)

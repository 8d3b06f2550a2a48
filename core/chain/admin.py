from django.contrib import admin, messages

from core.admin import ReadOnlyAdmin
from core.chain.events import delivery_retry_now
from core.chain.models import (
    ChainCursor,
    ChainEvent,
    ChainTransaction,
    ContractDeployment,
    EventDelivery,
    WalletTransaction,
)


@admin.register(ChainTransaction)
class ChainTransactionAdmin(ReadOnlyAdmin):
    list_display = ["id", "purpose", "nonce", "status", "tx_hash", "block_number", "created_at"]
    list_filter = ["status", "purpose"]
    search_fields = ["tx_hash", "mined_hash"]


@admin.register(WalletTransaction)
class WalletTransactionAdmin(ReadOnlyAdmin):
    """Transactions users' wallets sent (purchases, settlements and invoices, withdrawals)."""

    list_display = ["tx_hash", "kind", "subject", "status", "reason", "block_number", "amount", "reported_at"]
    list_filter = ["kind", "status"]
    search_fields = ["tx_hash", "subject"]


@admin.register(ContractDeployment)
class ContractDeploymentAdmin(ReadOnlyAdmin):
    list_display = ["name", "chain_id", "address", "deployed_at"]


class DeliveryInline(admin.TabularInline):
    model = EventDelivery
    extra = 0
    can_delete = False
    readonly_fields = [
        "subscriber",
        "status",
        "generation",
        "attempts",
        "last_error",
        "next_attempt_at",
        "done_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ChainEvent)
class ChainEventAdmin(ReadOnlyAdmin):
    list_display = ["name", "tx_hash", "log_index", "block_number", "orphaned", "generation", "created_at"]
    list_filter = ["name", "orphaned"]
    search_fields = ["tx_hash"]
    inlines = [DeliveryInline]


@admin.register(EventDelivery)
class EventDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "event", "subscriber", "status", "attempts", "next_attempt_at", "short_error"]
    list_filter = ["status", "subscriber"]
    search_fields = ["event__tx_hash", "last_error"]
    list_select_related = ["event"]
    actions = ["retry_now"]

    @admin.display(description="last error")
    def short_error(self, obj):
        return obj.last_error[:120]

    @admin.action(description="Retry the selected deliveries now", permissions=["view"])
    def retry_now(self, request, queryset):
        outcomes = {}
        for delivery in queryset:
            result = delivery_retry_now(delivery=delivery)
            outcomes[result.status] = outcomes.get(result.status, 0) + 1
        summary = ", ".join(f"{count} {status}" for status, count in sorted(outcomes.items()))
        self.message_user(request, f"Retried: {summary or 'nothing to retry'}.", messages.INFO)


@admin.register(ChainCursor)
class ChainCursorAdmin(ReadOnlyAdmin):
    list_display = ["contract", "chain_id", "block_number", "updated_at"]

from django.contrib import admin

from portal.chain.models import ChainCursor, ChainEvent, ChainTransaction, ContractDeployment


@admin.register(ChainTransaction)
class ChainTransactionAdmin(admin.ModelAdmin):
    list_display = ["id", "purpose", "nonce", "status", "tx_hash", "block_number", "created_at"]
    list_filter = ["status", "purpose"]
    search_fields = ["tx_hash", "mined_hash"]
    readonly_fields = [f.name for f in ChainTransaction._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ContractDeployment)
class ContractDeploymentAdmin(admin.ModelAdmin):
    list_display = ["name", "chain_id", "address", "deployed_at"]


@admin.register(ChainEvent)
class ChainEventAdmin(admin.ModelAdmin):
    list_display = ["name", "tx_hash", "log_index", "block_number", "created_at"]
    list_filter = ["name"]
    search_fields = ["tx_hash"]
    readonly_fields = [f.name for f in ChainEvent._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ChainCursor)
class ChainCursorAdmin(admin.ModelAdmin):
    list_display = ["contract", "chain_id", "block_number", "updated_at"]

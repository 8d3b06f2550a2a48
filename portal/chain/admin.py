from django.contrib import admin

from portal.chain.models import ChainTransaction, ContractDeployment


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

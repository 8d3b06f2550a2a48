from core.tasks import tick_task


@tick_task("royalties.reconcile")
def reconcile() -> dict:
    """Compare the ledger with LicenseMarket; mismatches are recorded and logged, never fixed."""
    from royalties.reconciliation import reconcile as run

    result = run()
    return {"ok": result.ok, "block": result.block_number, "mismatches": len(result.mismatches)}

from core.tasks import tick_task


@tick_task("licensing.tick")
def tick() -> dict:
    """Expire unpaid quotes past their time; revoke withdrawn offers on chain."""
    from licensing import services

    return {"expired": services.quotes_expire(), "revoked": services.offer_revocations_send()}

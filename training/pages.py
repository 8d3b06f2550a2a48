"""What training adds to licensing's pages (declared in settings.LICENSING_HOOKS)."""

from training.selectors import training_sold_by, training_uses_for_work


def work_page_context(*, work, address: str | None, is_party: bool) -> dict:
    """For the work's parties: which training runs used it and what each paid them."""
    return {"training_uses": training_uses_for_work(work=work, address=address) if is_party else []}


def sales_page_context(*, user) -> dict:
    training_licences, training_invoiced = training_sold_by(user=user)
    return {"training_licences": training_licences, "training_invoiced": training_invoiced}

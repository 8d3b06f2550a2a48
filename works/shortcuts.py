"""The lookups views share: one place that turns "not yours / not visible" into a 404."""

from django.http import Http404

from works import selectors
from works.models import Work

ERR_NO_SUCH_WORK = "No such work."
ERR_NO_SUCH_PORTFOLIO = "No such portfolio."


def get_work_for_owner_or_404(request, pk) -> Work:
    work = selectors.work_for_owner(pk=pk, user=request.user)
    if work is None:
        raise Http404(ERR_NO_SUCH_WORK)
    return work


def get_visible_work_or_404(request, pk) -> Work:
    """The work if this visitor may see it (works/models.py has the rule)."""
    work = selectors.work_for_viewer(pk=pk, user=request.user)
    if work is None:
        raise Http404(ERR_NO_SUCH_WORK)
    return work


def get_public_work_or_404(pk) -> Work:
    work = selectors.work_public(pk=pk)
    if work is None:
        raise Http404(ERR_NO_SUCH_WORK)
    return work


def get_readable_work_or_404(pk) -> Work:
    work = selectors.work_readable(pk=pk)
    if work is None:
        raise Http404(ERR_NO_SUCH_WORK)
    return work


def get_portfolio_for_owner_or_404(request, pk):
    portfolio = selectors.portfolio_for_owner(pk=pk, user=request.user)
    if portfolio is None:
        raise Http404(ERR_NO_SUCH_PORTFOLIO)
    return portfolio

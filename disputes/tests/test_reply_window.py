"""The respondent's time to answer: a moderator upholds only after the window, once the respondent
answered, or with a recorded reason why it cannot wait; a decision in their favour may come at once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from disputes import services
from disputes.flows import decision as decisions
from disputes.flows import filing
from disputes.models import Dispute
from royalties.tests.factories import work_row

pytestmark = pytest.mark.django_db
STATEMENT = "I painted this in 2019 and never licensed it to this account."


@pytest.fixture
def dispute(creator, outsider):
    work = work_row(creator.user, creator.address, title="Lighthouse")
    return filing.dispute_file(user=outsider.user, work=work, kind="content", statement=STATEMENT)


def test_the_window_is_set_at_filing_and_shown_to_both_parties(client, dispute, creator, outsider, settings):
    expected = dispute.created_at + timedelta(days=settings.DISPUTES_REPLY_DAYS)
    assert abs(dispute.reply_by - expected) < timedelta(seconds=5)
    client.force_login(creator.user)
    assert "You have until" in client.get(dispute.get_absolute_url()).content.decode()
    client.force_login(outsider.user)
    assert "The respondent has until" in client.get(dispute.get_absolute_url()).content.decode()


def test_upholding_waits_for_the_window_unless_it_cannot_wait(dispute, moderator):
    with pytest.raises(services.DisputeError) as refused:
        decisions.dispute_decide(
            dispute=dispute, moderator=moderator, decision="uphold", reason="Hate imagery."
        )
    assert refused.value.status == 409 and "has until" in refused.value.message
    dispute.refresh_from_db()
    assert dispute.is_open
    decisions.dispute_decide(
        dispute=dispute,
        moderator=moderator,
        decision="uphold",
        reason="Hate imagery.",
        urgent_reason="It breaks the content standards; it must come down now.",
    )
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.UPHELD
    assert "Decided before the respondent's reply window ended: It breaks" in dispute.decision_reason


def test_an_answer_or_the_end_of_the_window_lets_a_moderator_uphold(creator, outsider, moderator):
    work = work_row(creator.user, creator.address, title="Dunes")
    answered = filing.dispute_file(user=outsider.user, work=work, kind="content", statement=STATEMENT)
    services.dispute_reply(dispute=answered, user=creator.user, text="It is a landscape; nothing to see.")
    decisions.dispute_decide(dispute=answered, moderator=moderator, decision="uphold", reason="Seen.")
    other = work_row(creator.user, creator.address, title="Cliffs")
    waited = filing.dispute_file(user=outsider.user, work=other, kind="content", statement=STATEMENT)
    Dispute.objects.filter(pk=waited.pk).update(reply_by=timezone.now() - timedelta(seconds=1))
    waited.refresh_from_db()
    decisions.dispute_decide(dispute=waited, moderator=moderator, decision="uphold", reason="No answer.")
    assert {d.status for d in Dispute.objects.filter(pk__in=[answered.pk, waited.pk])} == {"upheld"}


def test_a_decision_in_the_respondents_favour_needs_no_wait(dispute, moderator):
    decisions.dispute_decide(dispute=dispute, moderator=moderator, decision="reject", reason="Nothing wrong.")
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.REJECTED


def test_the_admin_form_asks_why_it_cannot_wait(client, dispute, moderator):
    client.force_login(moderator)
    page = client.get(f"/admin/disputes/dispute/{dispute.pk}/change/").content.decode()
    assert 'data-testid="reply-window"' in page and "say why it cannot wait" in page
    early = client.post(
        f"/admin/disputes/dispute/{dispute.pk}/decide/", {"decision": "uphold", "reason": "Hate imagery."}
    )
    assert early.status_code == 409 and "has until" in early.content.decode()
    done = client.post(
        f"/admin/disputes/dispute/{dispute.pk}/decide/",
        {"decision": "uphold", "reason": "Hate imagery.", "urgent_reason": "Breaks the standards."},
    )
    assert done.status_code == 302

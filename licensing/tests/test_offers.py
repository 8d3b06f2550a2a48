"""Offers on the work page: publish, edit (a new version replaces the old one) and retire."""

import pytest

from licensing import services
from licensing.models import Offer
from licensing.terms import PRESETS
from royalties.tests.factories import work_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def work(creator):
    return work_row(creator.user, creator.address, title="Harbour at noon")


def _form_data(client, path, **changes):
    form = client.get(path).context["form"]
    data = {name: value for name, value in form.initial.items() if value not in (None, False)}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not False}


def test_editing_publishes_a_new_version_and_its_title_follows_what_it_grants(client, work, creator):
    offer = services.offer_create(work=work, terms=PRESETS["commercial_use"][1], preset="commercial_use")
    assert offer.title == "Commercial use"
    client.force_login(creator.user)
    page = client.get(work.get_absolute_url()).content.decode()
    assert 'data-testid="edit-offer"' in page and "Retire offer" in page and ">Withdraw<" not in page
    edit = client.get(f"/offers/{offer.pk}/edit")
    assert edit.status_code == 200 and "retires this one" in edit.content.decode()
    data = _form_data(
        client,
        f"/offers/{offer.pk}/edit",
        ai_training="paid",
        ai_training_price_eth="0.002",
        ai_model_scope="family",
    )
    response = client.post(f"/offers/{offer.pk}/edit", data)
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    offer.refresh_from_db()
    new = Offer.objects.get(work=work, status="active")
    assert offer.status == "withdrawn" and new.replaces_id == offer.pk
    assert new.title == "Commercial use, AI training paid"  # the preset's name no longer fits
    terms = new.terms.terms
    assert terms.ai_training_price_wei == 2 * 10**15 and terms.ai_model_scope == "family"
    assert "A paid AI-training licence covers a model family" in " ".join(terms.plain_language())


def test_a_title_the_creator_wrote_stays_and_an_unchanged_offer_is_refused(client, work, creator):
    offer = services.offer_create(
        work=work, terms=PRESETS["cc_by"][1], preset="cc_by", title="Free for everyone, credit me"
    )
    client.force_login(creator.user)
    same = client.post(f"/offers/{offer.pk}/edit", _form_data(client, f"/offers/{offer.pk}/edit"))
    assert same.status_code == 400 and services.ERR_NOTHING_CHANGED in same.content.decode()
    data = _form_data(client, f"/offers/{offer.pk}/edit", duration_days="365")
    assert client.post(f"/offers/{offer.pk}/edit", data).status_code == 302
    new = Offer.objects.get(work=work, status="active")
    assert new.title == "Free for everyone, credit me" and new.terms.terms.duration_days == 365
    renamed = _form_data(client, f"/offers/{new.pk}/edit", title="CC BY, one year")
    assert client.post(f"/offers/{new.pk}/edit", renamed).status_code == 302
    new.refresh_from_db()
    assert new.title == "CC BY, one year" and new.status == "active"  # a name alone: no new version


def test_only_the_owner_edits_or_retires_and_a_retired_offer_cannot_be_edited(
    client, work, creator, outsider
):
    offer = services.offer_create(work=work, terms=PRESETS["commercial_use"][1], preset="commercial_use")
    client.force_login(outsider.user)
    assert client.get(f"/offers/{offer.pk}/edit").status_code == 404
    assert client.post(f"/offers/{offer.pk}/withdraw").status_code == 404
    client.force_login(creator.user)
    retired = client.post(f"/offers/{offer.pk}/withdraw", follow=True)
    assert "retired: nobody can buy it now" in retired.content.decode()
    again = client.get(f"/offers/{offer.pk}/edit", follow=True)
    assert services.ERR_OFFER_RETIRED in again.content.decode()

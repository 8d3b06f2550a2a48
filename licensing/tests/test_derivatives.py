"""Declaring a derivative at upload: a licence allowing derivatives is needed, the parent's
creator approves when the terms ask, and the lineage is signed, shown and published."""

from dataclasses import replace

import pytest

from core.chain.eip712 import typed_data_sign
from licensing import services
from licensing.terms import PRESETS
from licensing.tests.helpers import buy, fund
from tests.fixtures.images import make_image, upload_file
from works import services as works_services
from works.models import DerivationLink, Work

pytestmark = pytest.mark.anvil


def _upstream(register, chain, upstream_creator, creator, *, approval=False):
    fund(chain, creator.address)
    parent = register(upstream_creator, seed=1600, title="Source")
    terms = replace(PRESETS["commercial_remix"][1], derivatives_approval=approval)
    offer = services.offer_create(work=parent, terms=terms, preset="commercial_remix")
    buy(chain, offer, creator)
    return parent


def _upload(client, persona, parents):
    client.force_login(persona.user)
    return client.post(
        "/works/new",
        {"file": upload_file(make_image(seed=1601)), "title": "Remix", "parents": [p.pk for p in parents]},
    )


def _sign(work, persona):
    typed = works_services.registration_typed_data(registration=work.registration)
    return works_services.registration_sign(
        registration=work.registration, signature=typed_data_sign(typed, persona.account)
    )


def test_a_licensed_parent_is_declared_signed_and_published(
    register, chain, client, creator, upstream_creator
):
    parent = _upstream(register, chain, upstream_creator, creator)
    client.force_login(creator.user)
    form = client.get("/works/new")
    assert "Source" in form.content.decode() and 'data-testid="parents"' in form.content.decode()
    assert _upload(client, creator, [parent]).status_code == 302
    work = Work.objects.get(title="Remix")
    link = DerivationLink.objects.get(child=work)
    assert (link.parent, link.share_bps, link.status) == (parent, 1000, "approved")

    registration = _sign(work, creator)
    assert registration.typed_data["message"]["parents"] == ["0x" + parent.sha256]
    document = client.get(f"/works/{work.pk}/provenance.json").json()
    assert document["parents"][0]["sha256"] == parent.sha256 and document["parents"][0]["share_bps"] == 1000
    page = client.get(f"/works/{work.pk}/").content.decode()
    assert 'data-testid="lineage"' in page and "Source" in page and "10 % of every sale" in page
    assert "Remix" in client.get(f"/works/{parent.pk}/").content.decode()  # the parent lists its derivative


def test_a_parent_asking_for_approval_holds_the_signature_until_it_approves(
    register, chain, client, creator, upstream_creator
):
    parent = _upstream(register, chain, upstream_creator, creator, approval=True)
    _upload(client, creator, [parent])
    work = Work.objects.get(title="Remix")
    with pytest.raises(works_services.RegistrationError) as exc:
        _sign(work, creator)
    assert exc.value.message == works_services.ERR_PARENTS_PENDING.format(title="Source")

    client.force_login(upstream_creator.user)
    assert 'data-testid="derivations-awaiting"' in client.get("/dashboard/").content.decode()
    page = client.get(f"/works/{parent.pk}/").content.decode()
    assert 'data-testid="derivation-requests"' in page
    link = DerivationLink.objects.get()
    client.force_login(creator.user)
    assert (
        client.post(f"/derivations/{link.pk}/decide", {"decision": "approve"}).status_code == 404
    )  # not theirs
    client.force_login(upstream_creator.user)
    client.post(f"/derivations/{link.pk}/decide", {"decision": "approve"})
    assert _sign(work, creator).status == "pending"


def test_a_refused_derivative_cannot_be_registered(register, chain, client, creator, upstream_creator):
    parent = _upstream(register, chain, upstream_creator, creator, approval=True)
    _upload(client, creator, [parent])
    link = DerivationLink.objects.get()
    client.force_login(upstream_creator.user)
    client.post(f"/derivations/{link.pk}/decide", {"decision": "refuse"})
    with pytest.raises(works_services.RegistrationError) as exc:
        _sign(Work.objects.get(title="Remix"), creator)
    assert exc.value.message == works_services.ERR_PARENT_REFUSED.format(title="Source")


def test_an_unlicensed_parent_cannot_be_chosen(register, chain, client, creator, outsider):
    stranger_work = register(outsider, seed=1602, title="Not yours")
    response = _upload(client, creator, [stranger_work])
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Work.objects.filter(title="Remix").exists()

"""The Licences page and the dashboard count every sale the earnings page lists: licences, and
what AI companies paid for (training licences, paid training-run invoices)."""

import pytest

from royalties.tests.factories import licence_row, paid_run_row, training_licence_row, work_row

pytestmark = pytest.mark.django_db


def test_training_sales_count_as_sales(client, creator, buyer, org):
    works = [work_row(creator.user, creator.address, title=f"Sold {i}") for i in range(4)]
    licence_row(works[0], buyer.user, buyer.address)
    training_licence_row(org, works[1], model_name="Acme-1", scope="family")
    training_licence_row(org, works[2])
    paid_run_row(org, [works[2], works[3]], run_id="run-9", model_name="Acme-2")
    client.force_login(creator.user)
    dashboard = client.get("/dashboard/").content.decode()
    assert 'data-testid="sold-count">5<' in dashboard  # 1 licence, 2 training licences, 2 invoiced
    page = client.get("/licences/").content.decode()
    section = page.split('data-testid="training-sold"')[1]
    assert section.count("Acme AI") == 4
    assert "the model family “Acme-1”" in section and "training run “run-9”" in section
    client.force_login(buyer.user)
    assert 'data-testid="training-sold"' not in client.get("/licences/").content.decode()

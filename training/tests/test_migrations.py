"""The training models moved from licensing to training in the state only: a database written
before the move keeps every row, and the training app reads them afterwards."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("licensing", "0007_traininglicence_model_scope_trainingrunwork_terms"), ("training", None)]


@pytest.mark.django_db(transaction=True)
def test_rows_written_under_licensing_are_read_by_training_after_the_move():
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE[:1]).apps
    user = old.get_model("auth", "User").objects.create(username="0x" + "1" * 40)
    org = old.get_model("orgs", "Organisation").objects.create(name="Lab", slug="lab", created_by=user)
    run = old.get_model("licensing", "TrainingRun").objects.create(
        org=org, run_id="run-before-the-move", model_name="m-1", unmatched=["x"]
    )
    old.get_model("licensing", "Invoice").objects.create(org=org, run=run, total_wei=10**30 + 1)

    executor = MigrationExecutor(connection)
    executor.migrate(leaves)

    from training.models import Invoice, TrainingRun

    moved = TrainingRun.objects.get(run_id="run-before-the-move")
    assert moved.pk == run.pk and moved.org_id == org.pk and moved.unmatched == ["x"]
    assert Invoice.objects.get(run=moved).total_wei == 10**30 + 1
    TrainingRun.objects.create(org_id=org.pk, run_id="run-after-the-move", model_name="m-2")
    assert TrainingRun.objects.filter(org_id=org.pk).count() == 2


@pytest.mark.django_db(transaction=True)
def test_manifest_results_stored_as_text_are_compressed_and_back():
    """0002 keeps every stored manifest answer: compressed going forward, text again going back."""
    text = '[{"index":0,"ref":"r-é","sha256":null,"url":null,"pdq":null,"match":null}]'
    before, after = [("training", "0001_initial")], [("training", "0002_manifest_results_compressed")]
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("auth", "User").objects.create(username="0x" + "2" * 40)
    org = old.get_model("orgs", "Organisation").objects.create(name="Lab", slug="lab", created_by=user)
    checks = old.get_model("training", "ManifestCheck")
    check = checks.objects.create(org=org, items=1, matched=0, results_json=text)

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    stored = bytes(new.get_model("training", "ManifestCheck").objects.get(pk=check.pk).results_zstd)
    assert len(stored) > 0 and stored != text.encode()

    executor = MigrationExecutor(connection)
    executor.migrate(before)
    assert old.get_model("training", "ManifestCheck").objects.get(pk=check.pk).results_json == text

    executor = MigrationExecutor(connection)
    executor.migrate(leaves)
    from training.models import ManifestCheck

    assert ManifestCheck.objects.get(pk=check.pk).results_json.decode() == text
    assert ManifestCheck.objects.get(pk=check.pk).results[0]["ref"] == "r-é"


@pytest.mark.django_db(transaction=True)
def test_an_invoice_written_before_currencies_is_in_eth_and_its_priced_works_are_its_lines():
    """0003: a run's one invoice (in ETH) becomes the invoice of each work it charged for."""
    before = [("training", "0002_manifest_results_compressed")]
    after = [("training", "0003_ai_prices_in_a_currency")]
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps
        user = old.get_model("auth", "User").objects.create(username="0x" + "3" * 40)
        org = old.get_model("orgs", "Organisation").objects.create(name="Lab", slug="lab", created_by=user)
        run = old.get_model("training", "TrainingRun").objects.create(org=org, run_id="r", model_name="m")
        invoice = old.get_model("training", "Invoice").objects.create(org=org, run=run, total_wei=7)
        Work = old.get_model("works", "Work")
        works = [
            Work.objects.create(
                owner=user,
                title=f"w{i}",
                sha256=f"{i:064x}",
                creator_address=user.username,
                width=1,
                height=1,
                size=1,
                pdq="0" * 64,
                pdq_quality=100,
            )
            for i in range(3)
        ]
        rows = old.get_model("training", "TrainingRunWork").objects
        rows.create(run=run, work=works[0], status="invoiced", price_wei=7)
        rows.create(run=run, work=works[1], status="free")
        rows.create(run=run, work=works[2], status="violation")

        executor = MigrationExecutor(connection)
        executor.migrate(after)
        new = executor.loader.project_state(after).apps
        moved = new.get_model("training", "Invoice").objects.get(pk=invoice.pk)
        assert moved.currency == "ETH" and moved.total_wei == 7
        lines = new.get_model("training", "TrainingRunWork").objects.filter(invoice_id=invoice.pk)
        assert [row.work_id for row in lines] == [works[0].pk]

    finally:  # a failure above must not leave the database behind for the tests after
        executor = MigrationExecutor(connection)
        executor.migrate(leaves)

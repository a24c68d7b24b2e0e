"""Migrations: a previous release's data survives the upgrade (also through a backup made and
restored at that release's schema), every migration can be undone, and no model change lacks
its migration.

There are no release tags; the previous release is the schema before the strategy's life
(revisions, adoptions, indexation rates, annex texts: funding 0006–0007) and the action plans
(programs 0004–0005), the earliest state that holds the core data: strategies, key, lines,
items and their history, municipal budget items, annual reports.
"""

import datetime
import gzip
import io
import json
from decimal import Decimal

import pytest
from django.apps import apps as current
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from funding.models import (
    BudgetLine,
    FundingStrategy,
    Municipality,
    Reallocation,
    StrategyRevision,
)
from programs.models import AnnualReport, Association

PREVIOUS_RELEASE = [("funding", "0005_localized_limits"), ("programs", "0003_localized_limits")]
PROJECT_APPS = ("funding", "programs")
HISTORY_DATE = datetime.datetime(2025, 3, 14, 9, 26, 53, 589793, tzinfo=datetime.UTC)


@pytest.fixture
def executor(transactional_db):
    """A migration executor; the database is brought back to the latest schema afterwards,
    whatever the test did, for the tests that follow."""
    yield MigrationExecutor(connection)
    latest = MigrationExecutor(connection)
    latest.migrate(latest.loader.graph.leaf_nodes())


def migrate(executor: MigrationExecutor, targets) -> MigrationExecutor:
    """Migrate to ``targets``; a fresh executor, since the old one's graph state is spent."""
    executor.migrate(targets)
    return MigrationExecutor(connection)


def rows(apps, labels) -> dict[str, list[dict]]:
    """Every row of the models, as dicts by column, in primary-key order; a link table's rows
    without their own id (a restore numbers links anew)."""
    tables = {}
    for label in labels:
        model = apps.get_model(label)
        found = list(model._base_manager.order_by("pk").values())
        if model._meta.auto_created:
            found = sorted(({k: v for k, v in row.items() if k != "id"} for row in found), key=repr)
        tables[label] = found
    return tables


def create_previous_release_data(apps) -> None:
    """Representative rows of every kind the previous release held, made with its models."""
    User = apps.get_model("auth", "User")
    Municipality_ = apps.get_model("funding", "Municipality")
    Strategy = apps.get_model("funding", "FundingStrategy")
    Association_ = apps.get_model("programs", "Association")
    Line = apps.get_model("funding", "BudgetLine")
    Item = apps.get_model("funding", "BudgetItem")
    BudgetItem = apps.get_model("funding", "MunicipalBudgetItem")
    officer = User.objects.create(username="uradnik.sezana", password="md5$salt$hash")
    sezana = Municipality_.objects.create(
        name="Občina Sežana", short_name="Sežana", slug="sezana", address="Partizanska 4, Sežana"
    )
    komen = Municipality_.objects.create(name="Občina Komen", short_name="Komen", slug="komen")
    apps.get_model("funding", "Membership").objects.create(user=officer, municipality=sezana)
    strategy = Strategy.objects.create(
        slug="kras-2025-2029",
        title="Strategija financiranja društev 2025–2029",
        start_year=2025,
        end_year=2029,
        lead_municipality=sezana,
        key_source="Dogovor z dne 8. 5. 2002",
    )
    share = apps.get_model("funding", "StrategyShare").objects.create(
        strategy=strategy, municipality=sezana, share_percent=Decimal("50.78"), position=0
    )
    apps.get_model("funding", "StrategyShare").objects.create(
        strategy=strategy, municipality=komen, share_percent=Decimal("49.22"), position=1
    )
    association = Association_.objects.create(
        name="Društvo za pomoč PO MOČ", short_name="PO MOČ", slug="po-moc"
    )
    apps.get_model("funding", "StrategyAssociation").objects.create(
        strategy=strategy, association=association
    )
    line = Line.objects.create(
        strategy=strategy,
        association=association,
        year=2025,
        category="staff",
        amount=Decimal("23850.35"),
    )
    Item.objects.create(
        line=line,
        description="Tajnica, plačni razred 43",
        pay_grade=43,
        share_percent=Decimal("60.00"),
        amount=Decimal("23850.35"),
    )
    apps.get_model("funding", "HistoricalBudgetLine").objects.create(
        id=line.pk,
        strategy_id=strategy.pk,
        association_id=association.pk,
        year=2025,
        category="staff",
        amount=Decimal("23850.35"),
        history_date=HISTORY_DATE,
        history_type="+",
        history_change_reason="import_budget_lines vrstice.csv",
        history_user=officer,
    )
    apps.get_model("funding", "HistoricalStrategyShare").objects.create(
        id=share.pk,
        strategy_id=strategy.pk,
        municipality_id=sezana.pk,
        share_percent=Decimal("50.78"),
        position=0,
        history_date=HISTORY_DATE,
        history_type="+",
    )
    source = BudgetItem.objects.create(
        municipality=sezana, year=2024, code="4120", name="Društva", adopted_amount=Decimal("30000")
    )
    target = BudgetItem.objects.create(municipality=sezana, year=2024, code="4121", name="Mladi")
    apps.get_model("funding", "Allocation").objects.create(
        item=source,
        recipient="PO MOČ",
        planned_amount=Decimal("25000.00"),
        realised_amount=Decimal("25883.79"),
    )
    apps.get_model("funding", "Reallocation").objects.create(
        source=source,
        target=target,
        amount=Decimal("4500.00"),
        date=datetime.date(2024, 10, 1),
        purpose="Preventivni projekti",
        reason="Sklep župana",
    )
    report = apps.get_model("programs", "AnnualReport").objects.create(
        association=association, year=2024, title="Letno poročilo 2024", status="published"
    )
    report.municipalities.add(sezana)
    report.budget_items.add(source)
    apps.get_model("programs", "Indicator").objects.create(
        report=report,
        name="Število uporabnikov",
        planned=Decimal("60"),
        achieved=Decimal("62"),
    )


def test_previous_release_data_survives_a_backup_and_the_upgrade(executor, tmp_path):
    executor = migrate(executor, PREVIOUS_RELEASE)
    old = executor.loader.project_state(PREVIOUS_RELEASE).apps
    create_previous_release_data(old)
    labels = sorted(
        model._meta.label_lower
        for model in old.get_models(include_auto_created=True)
        if model._meta.app_label in PROJECT_APPS
    )
    before = rows(old, [*labels, "auth.user"])

    # The previous release's backup, restored at its schema: what an operator does with an
    # old backup before migrating it forward.
    backup = tmp_path / "previous.json.gz"
    call_command("backup_data", "--output", str(backup), stdout=io.StringIO())
    recorded = json.loads(gzip.decompress(backup.read_bytes()))["migrations"]
    assert {app: recorded[app] for app in PROJECT_APPS} == dict(PREVIOUS_RELEASE)
    call_command("restore_data", str(backup), "--replace", stdout=io.StringIO())
    assert rows(old, [*labels, "auth.user"]) == before

    executor = migrate(executor, executor.loader.graph.leaf_nodes())
    after = rows(current, [*labels, "auth.user"])
    for label in before:
        kept = [{k: v for k, v in row.items() if k in before[label][0]} for row in after[label]]
        assert kept == before[label], label
    # The values a reader sees, through today's models.
    line = BudgetLine.objects.get()
    assert line.amount == Decimal("23850.35")
    assert [i.pay_grade for i in line.items.all()] == [43]
    entry = line.history.get()
    assert (entry.history_date, entry.history_change_reason, entry.history_user.username) == (
        HISTORY_DATE,
        "import_budget_lines vrstice.csv",
        "uradnik.sezana",
    )
    strategy = FundingStrategy.objects.get()
    assert strategy.key_total() == Decimal("100.00")
    assert (strategy.introduction, strategy.lock_reason()) == ("", None)  # a draft, as before
    assert not StrategyRevision.objects.exists()
    assert Municipality.objects.get(slug="sezana").statute_basis == ""
    assert Association.objects.get().presentation == ""
    # Register records existing before their history get a first entry to compare and revert to.
    started = Municipality.objects.get(slug="komen").history.get()
    assert (started.history_type, started.short_name) == ("+", "Komen")
    assert Association.objects.get().history.get().short_name == "PO MOČ"
    assert Reallocation.objects.get().purpose == "Preventivni projekti"
    report = AnnualReport.objects.get()
    assert [i.achieved for i in report.indicators.all()] == [Decimal("62.00")]
    assert list(report.municipalities.values_list("slug", flat=True)) == ["sezana"]
    assert timezone.is_aware(entry.history_date)


def test_every_migration_of_the_project_can_be_undone(executor):
    loader = MigrationLoader(connection)
    irreversible = [
        f"{app} {name}: {operation.describe()}"
        for (app, name), migration in sorted(loader.disk_migrations.items())
        if app in PROJECT_APPS
        for operation in migration.operations
        if not operation.reversible
    ]
    assert irreversible == []
    # And undone they are: everything of both apps (funding depends on programs 0001), then
    # forward again.
    executor = migrate(executor, [("programs", None)])
    applied = MigrationLoader(connection).applied_migrations
    assert not [key for key in applied if key[0] in PROJECT_APPS]
    executor = migrate(executor, executor.loader.graph.leaf_nodes())
    assert FundingStrategy.objects.count() == 0


@pytest.mark.django_db
def test_no_model_change_lacks_its_migration():
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()

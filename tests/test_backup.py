"""``backup_data`` and ``restore_data``: the demo database comes back whole; a bad file, another
migration state or a database holding data is refused, with nothing written."""

import base64
import datetime
import gzip
import hashlib
import io
import json
import re
import stat

import pytest
from axes.models import AccessAttempt
from django.apps import apps
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.management import create_contenttypes
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.core.management.color import no_style
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone, translation
from openpyxl import load_workbook
from pypdf import PdfReader
from simple_history.utils import update_change_reason

from funding.models import (
    BudgetCategory,
    BudgetLine,
    FundingStrategy,
    Membership,
    Municipality,
    StrategyRevision,
    StrategyShare,
)
from funding.roles import COORDINATOR
from programs.models import ActionPlan, AnnualReport, CouncilSubmission
from tests.factories import AssociationFactory, MunicipalityFactory, StrategyFactory

pytestmark = pytest.mark.django_db

# Rows a backup leaves out, and why (funding/backup.py): created by migrate, or about the
# running installation only.
NOT_BACKED_UP = {
    "contenttypes.contenttype",
    "auth.permission",
    "sessions.session",
    "axes.accessattempt",
    "axes.accessattemptexpiration",
    "axes.accessfailurelog",
    "axes.accesslog",
}
# Every byte value, so that no encoding step can pass unnoticed.
ANNEX_BYTES = bytes(range(256)) * 3 + b"%PDF-1.7\r\n\x00\xff"


def backed_up_models():
    """The models whose rows must come back, Django's link tables included."""
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.label_lower not in NOT_BACKED_UP
    ]


def _natural(model, field):
    """How a reference to a content type or a permission reads in any database."""
    if field.related_model is ContentType:
        return lambda pk: ContentType.objects.get_for_id(pk).natural_key()
    if field.related_model is Permission:
        return lambda pk: Permission.objects.get(pk=pk).natural_key()
    return None


def snapshot() -> dict[str, list]:
    """Every backed-up row as a dict; ids of content types and permissions by natural key, the
    rows of link tables without their own id (a link is its pair)."""
    ContentType.objects.clear_cache()
    tables = {}
    for model in backed_up_models():
        natural = {
            field.attname: convert
            for field in model._meta.concrete_fields
            if field.is_relation and (convert := _natural(model, field))
        }
        rows = []
        for row in model._base_manager.order_by("pk").values():
            for name, convert in natural.items():
                if row[name] is not None:
                    row[name] = convert(row[name])
            row = {k: bytes(v) if isinstance(v, memoryview) else v for k, v in row.items()}
            if model._meta.auto_created:
                del row["id"]
            rows.append(row)
        if model._meta.auto_created:
            rows.sort(key=repr)
        tables[model._meta.label_lower] = rows
    return tables


def wipe() -> None:
    """Empty the database as a fresh one is: backed-up tables, sessions; ids start again from 1.

    Plain SQL: deleting through the ORM would write history entries, and frozen revisions
    refuse it.
    """
    with connection.cursor() as cursor:
        for model in [*backed_up_models(), Session]:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
        sequences = [
            {"table": model._meta.db_table, "column": model._meta.pk.column}
            for model in backed_up_models()
        ]
        for sql in connection.ops.sequence_reset_by_name_sql(no_style(), sequences):
            cursor.execute(sql)


def recreate_content_types() -> None:
    """Give content types and permissions new ids, as another database has them."""
    Permission.objects.all().delete()
    ContentType.objects.all().delete()
    ContentType.objects.clear_cache()
    for app_config in apps.get_app_configs():
        create_contenttypes(app_config, verbosity=0)
        create_permissions(app_config, verbosity=0)


def backup(path) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command("backup_data", "--output", str(path), stdout=out)
    return out.getvalue()


def restore(path, *args) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command("restore_data", str(path), *args, stdout=out)
    return out.getvalue()


def read_document(path) -> dict:
    return json.loads(gzip.decompress(path.read_bytes()))


def canonical_sha256(payload) -> str:
    """The checksum as the format's description defines it."""
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def rewrite(path, change, *, checksum=True) -> None:
    """Change the file's document; recompute its checksum unless told not to."""
    document = read_document(path)
    change(document)
    if checksum:
        document["payload_sha256"] = canonical_sha256(document["payload"])
    path.write_bytes(gzip.compress(json.dumps(document).encode("utf-8")))


def refusal(path, *args) -> str:
    with translation.override("en"), pytest.raises(CommandError) as raised:
        restore(path, *args)
    return str(raised.value)


# --- Documents: every export a reader can download, read back for comparison ------------------


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def xlsx_values(content: bytes) -> list:
    book = load_workbook(io.BytesIO(content))
    return [list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets]


def page_html(content: bytes) -> str:
    # The CSRF token of the header's forms is new on every request.
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", content.decode("utf-8"))


def documents(client) -> dict[str, object]:
    """Every document of the demo as a reader downloads it: the bytes of files (JSON, CSV, PDF,
    the adopted annex with its hash), the values of spreadsheets (whose files carry the time
    they were made), the HTML of pages."""
    urls = ["/reports/"]
    for strategy in FundingStrategy.objects.order_by("slug"):
        base = f"/reports/strategies/{strategy.slug}"
        for year in strategy.years:
            urls += [f"{base}/{year}/cost-sharing/"]
            urls += [f"{base}/{year}/cost-sharing.{fmt}" for fmt in ("json", "csv", "xlsx", "pdf")]
        urls += [f"{base}/projection/", f"{base}/changes/", f"{base}/annex.pdf"]
        urls += [f"{base}/projection.{fmt}" for fmt in ("csv", "xlsx", "pdf")]
        urls += [
            f"{base}/resolution/{slug}.pdf"
            for slug in strategy.shares.values_list("municipality__slug", flat=True)
        ]
    urls += [
        f"/reports/revisions/{pk}/annex.pdf"
        for pk in StrategyRevision.objects.values_list("pk", flat=True)
    ]
    for pk in AnnualReport.objects.order_by("pk").values_list("pk", flat=True):
        urls += [f"/reports/annual-reports/{pk}/", f"/reports/annual-reports/{pk}.pdf"]
    urls += [
        f"/reports/council-submissions/{pk}.pdf"
        for pk in CouncilSubmission.objects.order_by("pk").values_list("pk", flat=True)
    ]
    for slug in ActionPlan.objects.order_by("slug").values_list("slug", flat=True):
        base = f"/reports/action-plans/{slug}"
        urls += [f"{base}/", f"{base}.pdf", f"{base}/progress/", f"{base}/progress.pdf"]
    read = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        content = response.content
        if url.endswith("annex.pdf"):
            # The adopted annex is the stored file, signed as it is: byte for byte.
            read[url] = (content, response["X-Content-SHA256"])
        elif url.endswith(".xlsx"):
            read[url] = xlsx_values(content)
        elif url.endswith("/"):
            read[url] = page_html(content)
        else:
            read[url] = content
    return read


# --- The demo database, backed up, wiped and restored ----------------------------------------


def test_a_restored_demo_database_gives_the_same_documents_history_and_users(
    settings, client, tmp_path
):
    settings.DEBUG = True
    call_command("load_demo", stdout=io.StringIO())
    settings.DEBUG = False
    admin = User.objects.get(username="admin")
    coordinator = User.objects.get(username="koordinator")
    # What the demo does not hold by itself: a log entry, a user's own permission, an explained
    # history entry, a session, a lockout.
    line = BudgetLine.objects.filter(year=2025).order_by("pk").first()
    LogEntry.objects.create(
        user=admin,
        content_type=ContentType.objects.get_for_model(BudgetLine),
        object_id=str(line.pk),
        object_repr=str(line)[:200],
        action_flag=ADDITION,
        change_message='[{"added": {}}]',
    )
    coordinator.user_permissions.add(Permission.objects.get(codename="view_budgetline"))
    update_change_reason(line, "Popravek po seji sveta")
    line.history.filter(history_id=line.history.latest().history_id).update(
        history_user=coordinator
    )
    SessionStore().create()
    AccessAttempt.objects.create(username="zunanji", ip_address="192.0.2.7", failures_since_start=3)
    assert StrategyRevision.objects.get().status == StrategyRevision.Status.IN_FORCE
    annex = bytes(StrategyRevision.objects.get().annex_pdf)
    old_type_id = ContentType.objects.get_for_model(BudgetLine).pk

    client.force_login(admin)
    before_documents = documents(client)
    before_rows = snapshot()
    rows = sum(m._base_manager.count() for m in backed_up_models() if not m._meta.auto_created)
    target = tmp_path / "demo.json.gz"
    printed = backup(target)

    wipe()
    recreate_content_types()
    assert ContentType.objects.get_for_model(BudgetLine).pk != old_type_id
    assert not any(snapshot().values())
    printed_restore = restore(target)

    assert snapshot() == before_rows
    assert bytes(StrategyRevision.objects.get().annex_pdf) == annex
    client.force_login(User.objects.get(username="admin"))
    after_documents = documents(client)
    assert after_documents.keys() == before_documents.keys()
    for url, before in before_documents.items():
        after = after_documents[url]
        if url.endswith(".pdf") and after != before:
            # The same HTML renders to the same bytes; where they differ, the text must not.
            assert pdf_text(after) == pdf_text(before), url
        else:
            assert after == before, url
    # Spelled out, though the snapshot holds them: what an operator checks first.
    assert User.objects.get(username="uradnik.komen").check_password("demo")
    coordinator = User.objects.get(username="koordinator")
    assert set(coordinator.groups.values_list("name", flat=True)) == {COORDINATOR}
    assert coordinator.has_perm("funding.view_budgetline")
    entry = line.history.latest()
    assert (entry.history_change_reason, entry.history_user) == (
        "Popravek po seji sveta",
        User.objects.get(username="koordinator"),
    )
    assert LogEntry.objects.get().content_type == ContentType.objects.get_for_model(BudgetLine)
    assert AccessAttempt.objects.count() == 1  # not the backup's: a lockout stays where it is
    assert f"{rows} rows" in printed and f"{rows} rows" in printed_restore
    assert "  funding.historicalbudgetline: " in printed_restore


# --- A little of everything, for the file's properties and the refusals ------------------------


@pytest.fixture
def data():
    """A strategy with a share (and its history), a line, a revision holding annex bytes, a
    user in a group with permissions, a membership, an admin log entry and a session."""
    municipality = MunicipalityFactory(slug="sezana")
    strategy = StrategyFactory(slug="kras", lead_municipality=municipality)
    association = AssociationFactory()
    StrategyShare.objects.create(
        strategy=strategy, municipality=municipality, share_percent="100.00"
    )
    BudgetLine.objects.create(
        strategy=strategy,
        association=association,
        year=2025,
        category=BudgetCategory.STAFF,
        amount="5047.00",
    )
    StrategyRevision.objects.create(strategy=strategy, annex_pdf=ANNEX_BYTES)
    group = Group.objects.create(name="Koordinator strategije")
    group.permissions.add(*Permission.objects.filter(codename__endswith="_budgetline"))
    user = User.objects.create_user("ana", password="geslo-ane")
    user.groups.add(group)
    user.user_permissions.add(Permission.objects.get(codename="view_strategyshare"))
    Membership.objects.create(user=user, municipality=municipality)
    LogEntry.objects.create(
        user=user,
        content_type=ContentType.objects.get_for_model(FundingStrategy),
        object_id=str(strategy.pk),
        object_repr=str(strategy),
        action_flag=ADDITION,
    )
    SessionStore().create()
    return strategy


def test_the_file_records_format_time_migrations_and_checksum(data, tmp_path):
    target = tmp_path / "backup.json.gz"
    backup(target)
    document = read_document(target)
    assert (document["format"], document["version"]) == ("municipal-funding-backup", 1)
    made = datetime.datetime.fromisoformat(document["created_at"])
    assert abs(timezone.now() - made) < datetime.timedelta(minutes=1)
    applied = MigrationRecorder(connection).applied_migrations()
    for app in ("auth", "funding", "programs"):
        assert (app, document["migrations"][app]) in applied
        assert document["migrations"][app] == max(name for a, name in applied if a == app)
    assert document["payload_sha256"] == canonical_sha256(document["payload"])
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # password hashes inside

    by_model = {}
    for entry in document["payload"]:
        by_model.setdefault(entry["model"], []).append(entry)
    assert not NOT_BACKED_UP & by_model.keys()
    (revision,) = by_model["funding.strategyrevision"]
    assert base64.b64decode(revision["fields"]["annex_pdf"]) == ANNEX_BYTES
    (log,) = by_model["admin.logentry"]
    assert log["fields"]["content_type"] == ["funding", "fundingstrategy"]
    (group,) = by_model["auth.group"]
    assert ["change_budgetline", "funding", "budgetline"] in group["fields"]["permissions"]
    (user,) = by_model["auth.user"]
    assert user["fields"]["password"] == User.objects.get().password
    assert user["fields"]["user_permissions"] == [
        ["view_strategyshare", "funding", "strategyshare"]
    ]
    (history,) = by_model["funding.historicalstrategyshare"]
    # Microseconds kept: a history entry's date comes back exactly.
    kept = StrategyShare.history.get().history_date
    assert datetime.datetime.fromisoformat(history["fields"]["history_date"]) == kept
    assert by_model["funding.budgetline"][0]["fields"]["amount"] == "5047.00"


def test_restore_replaces_the_data_with_the_backups(data, tmp_path):
    target = tmp_path / "backup.json.gz"
    backup(target)
    before = snapshot()
    # Changes after the backup: new rows, changed rows, deleted rows, another user.
    Municipality.objects.create(name="Občina Komen", short_name="Komen", slug="komen")
    StrategyShare.objects.update(share_percent="99.00")
    Membership.objects.all().delete()
    User.objects.create_user("bojan")
    User.objects.get(username="ana").set_password("drugo")
    assert snapshot() != before
    assert Session.objects.exists()

    printed = restore(target, "--replace")

    assert snapshot() == before
    assert not Session.objects.exists()  # logins of replaced users end
    assert User.objects.get(username="ana").check_password("geslo-ane")
    assert "rows" in printed


def test_new_rows_after_a_restore_get_fresh_ids(data, tmp_path):
    target = tmp_path / "backup.json.gz"
    backup(target)
    restored_max = max(StrategyShare.history.values_list("history_id", flat=True))
    wipe()  # ids start from 1 again, as in a new database
    restore(target)
    municipality = Municipality.objects.create(name="Občina Komen", short_name="Komen", slug="k")
    share = StrategyShare.objects.create(
        strategy=FundingStrategy.objects.get(), municipality=municipality, share_percent="1.00"
    )
    assert municipality.pk > Municipality.objects.exclude(pk=municipality.pk).get().pk
    assert share.history.latest().history_id > restored_max
    assert Group.objects.create(name="Referent").pk > 1


# --- Refusals: a clear message, and the database as it was ------------------------------------


def _truncated(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _damaged_bytes(path):
    content = bytearray(path.read_bytes())
    middle = len(content) // 2
    content[middle : middle + 8] = bytes(b ^ 0xFF for b in content[middle : middle + 8])
    path.write_bytes(bytes(content))


def _changed_amount(path):
    def change(document):
        for entry in document["payload"]:
            if entry["model"] == "funding.budgetline":
                entry["fields"]["amount"] = "50470.00"

    rewrite(path, change, checksum=False)


def _not_json(path):
    path.write_bytes(b"Strategija financiranja drustev 2025-2029\n")


def _other_json(path):
    path.write_text('{"format": "strategy/v1", "slug": "kras"}', encoding="utf-8")


def _newer_format(path):
    rewrite(path, lambda document: document.update(version=2))


def _missing(path):
    path.unlink()


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (_not_json, "is not a backup of this application: it is not (gzip-compressed) JSON"),
        (_other_json, "is not a backup of this application (no “format”"),
        (_truncated, "is truncated: the compressed data ends before its end marker"),
        (_damaged_bytes, "is damaged"),
        (_changed_amount, "is damaged: its data does not match its SHA-256 checksum"),
        (_newer_format, "is a backup in format version 2; this release reads version 1"),
        (_missing, "Cannot read"),
    ],
)
def test_a_file_that_is_not_a_whole_backup_is_refused(data, tmp_path, spoil, message):
    target = tmp_path / "backup.json.gz"
    backup(target)
    before = snapshot()
    spoil(target)
    refused = refusal(target, "--replace")
    assert message in refused
    assert str(target) in refused
    assert snapshot() == before


def test_a_backup_of_an_older_schema_is_refused_naming_the_migrations(data, tmp_path):
    target = tmp_path / "backup.json.gz"
    backup(target)
    current = read_document(target)["migrations"]["funding"]

    def older(document):
        document["migrations"].update(funding="0005_localized_limits")

    rewrite(target, older)
    before = snapshot()
    refused = refusal(target, "--replace")
    assert f"funding: backup 0005_localized_limits, database {current}" in refused
    assert "manage.py migrate funding 0005_localized_limits" in refused
    assert "then run manage.py migrate" in refused
    assert "programs" not in refused  # only what differs
    assert snapshot() == before


def test_a_backup_from_a_newer_release_is_refused(data, tmp_path):
    target = tmp_path / "backup.json.gz"
    backup(target)
    rewrite(target, lambda document: document["migrations"].update(programs="0099_future"))
    before = snapshot()
    refused = refusal(target, "--replace")
    assert "This release does not have programs 0099_future" in refused
    assert "made by a newer release" in refused
    assert snapshot() == before


def test_a_database_that_holds_data_is_refused_without_replace(data, tmp_path):
    target = tmp_path / "backup.json.gz"
    backup(target)
    Municipality.objects.create(name="Občina Komen", short_name="Komen", slug="komen")
    before = snapshot()
    refused = refusal(target)
    assert "The database already holds data" in refused
    assert "--replace" in refused
    assert "auth.group: 1" in refused
    assert snapshot() == before


def _share_above_100(document):
    (share,) = [e for e in document["payload"] if e["model"] == "funding.strategyshare"]
    share["fields"]["share_percent"] = "150.00"


def _line_of_no_strategy(document):
    (line,) = [e for e in document["payload"] if e["model"] == "funding.budgetline"]
    line["fields"]["strategy"] = 99999


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        # A check constraint, refused at the row (after others were written and the
        # database's own rows deleted).
        (_share_above_100, "(funding.strategyshare "),
        # A foreign key, refused at the check before the commit.
        (_line_of_no_strategy, "The backup's rows do not fit together"),
    ],
)
def test_a_restore_that_fails_midway_leaves_the_database_as_it_was(data, tmp_path, tamper, message):
    target = tmp_path / "backup.json.gz"
    backup(target)
    rewrite(target, tamper)  # with a valid checksum: only the database can refuse it
    Municipality.objects.create(name="Občina Komen", short_name="Komen", slug="komen")
    before = snapshot()
    sessions = Session.objects.count()
    refused = refusal(target, "--replace")
    assert message in refused
    assert "Nothing was changed" in refused or "nothing was changed" in refused
    assert snapshot() == before
    assert Session.objects.count() == sessions


def test_restore_exits_with_status_1_and_says_why(manage_py, tmp_path):
    stray = tmp_path / "stray.json.gz"
    stray.write_bytes(b"not a backup")
    result = manage_py("restore_data", str(stray))
    assert result.returncode == 1
    # In Slovenian, as the other commands speak.
    assert f"Datoteka {stray} ni varnostna kopija te aplikacije" in result.stderr


def test_backup_refuses_a_folder_that_does_not_exist(tmp_path):
    target = tmp_path / "no-folder" / "backup.json.gz"
    with translation.override("en"), pytest.raises(CommandError) as raised:
        backup(target)
    assert "the folder" in str(raised.value) and "no-folder" in str(raised.value)
    assert not target.parent.exists()

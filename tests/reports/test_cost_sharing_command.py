"""``manage.py cost_sharing_table``: every format, and clear errors."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import load_workbook

pytestmark = pytest.mark.django_db


def run(*args):
    out = io.StringIO()
    call_command("cost_sharing_table", *args, stdout=out)
    return out.getvalue()


def test_json_to_standard_output_matches_the_web_download(demo, persona, client):
    printed = json.loads(run("kras-2025-2029", "--year", "2025", "--format", "json"))
    client.force_login(persona("admin"))
    downloaded = client.get("/reports/strategies/kras-2025-2029/2025/cost-sharing.json")
    assert printed == json.loads(downloaded.content)


@pytest.mark.parametrize("fmt", ["html", "pdf", "csv", "xlsx", "json"])
def test_every_format_can_be_written_to_a_file(demo, tmp_path, fmt):
    target = tmp_path / f"table.{fmt}"
    run("kras-2025-2029", "--year", "2025", "--format", fmt, "--output", str(target))
    content = target.read_bytes()
    expected_start = {
        "html": b"<!DOCTYPE html>",
        "pdf": b"%PDF-",
        "csv": "\ufeffDruštvo".encode(),
        "xlsx": b"PK",
        "json": b"{",
    }[fmt]
    assert content.startswith(expected_start)
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(content)).active
        assert any(row[2] == 194630 for row in sheet.iter_rows(values_only=True))


def test_a_municipality_annex_from_the_command(demo):
    data = json.loads(
        run("kras-2025-2029", "--year", "2025", "--format", "json", "--municipality", "komen")
    )
    assert [m["slug"] for m in data["municipalities"]] == ["komen"]
    assert all(len(row["shares"]) == 1 for row in data["rows"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ni-je", "--year", "2025"], "There is no strategy “ni-je”. Known strategies: kras-2025"),
        (["kras-2025-2029", "--year", "2024"], "The year 2024 lies outside the strategy's period"),
        (
            ["kras-2025-2029", "--year", "2025", "--municipality", "koper"],
            "The municipality “koper” does not take part in this strategy; its municipalities "
            "are sezana, divaca, hrpelje-kozina, komen.",
        ),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(demo, args, message):
    with translation.override("en"), pytest.raises(CommandError) as raised:
        run(*args)
    assert message in str(raised.value)


def test_the_command_exits_with_status_1_and_says_why(manage_py):
    assert manage_py("migrate", "-v0").returncode == 0
    result = manage_py("cost_sharing_table", "ni-je", "--year", "2025")
    assert result.returncode == 1
    assert "ni-je" in result.stderr

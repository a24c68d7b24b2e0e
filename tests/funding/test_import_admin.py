"""Importing and exporting budget lines in the admin: preview, confirm, permissions."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from funding.models import BudgetLine

pytestmark = pytest.mark.django_db

CSV_2026 = (
    "strategija;leto;društvo;kategorija;opis;znesek\r\n"
    "kras-2025-2029;2026;po-moc;Materialni stroški programa;indeksirano;6.855,42\r\n"
).encode("utf-8-sig")


def upload(client, content, name="vrstice.csv"):
    return client.post(
        reverse("admin:funding_budgetline_import"),
        {"import_file": SimpleUploadedFile(name, content), "format": "0"},
    )


def test_a_coordinator_previews_then_confirms_an_import(demo, persona, client):
    client.force_login(persona("koordinator"))
    preview = upload(client, CSV_2026)
    assert preview.status_code == 200
    confirm = preview.context.get("confirm_form")
    assert confirm is not None, preview.content.decode()[:3000]
    assert not BudgetLine.objects.filter(year=2026).exists()  # the preview writes nothing

    done = client.post(reverse("admin:funding_budgetline_process_import"), confirm.initial)
    assert done.status_code == 302
    line = BudgetLine.objects.get(year=2026)
    assert str(line.amount) == "6855.42"
    assert line.history.get().history_user.username == "koordinator"


def test_a_clerk_cannot_import(demo, persona, client):
    client.force_login(persona("referent.sezana"))
    assert client.get(reverse("admin:funding_budgetline_import")).status_code == 403
    assert upload(client, CSV_2026).status_code == 403
    assert not BudgetLine.objects.filter(year=2026).exists()


def test_an_unreadable_file_is_explained_in_words(demo, persona, client):
    client.force_login(persona("koordinator"))
    response = upload(client, "strategija;leto\r\n".encode("utf-16"))
    errors = response.context["form"].errors["import_file"]
    assert any("UTF-16" in error for error in errors), errors
    assert not BudgetLine.objects.filter(year=2026).exists()


def test_the_export_is_semicolon_csv_of_the_readers_strategies(demo, persona, client):
    client.force_login(persona("uradnik.komen"))
    response = client.post(
        reverse("admin:funding_budgetline_export"),
        {
            "format": "0",
            **{
                f"budgetlineresource_{name}": "on"
                for name in ("strategy", "year", "association", "category", "note", "amount")
            },
        },
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(rows) == 1 + 8
    assert any("51438,00" in row for row in rows)


def test_the_preview_numbers_bad_rows_by_the_files_lines(demo, persona, client):
    client.force_login(persona("koordinator"))
    bad = CSV_2026 + "kras-2025-2029;2031;vezi;Stroški zaposlenih;;1,005\r\n".encode()
    response = upload(client, bad)
    invalid = response.context["result"].invalid_rows
    assert [row.number for row in invalid] == [3]  # header 1, good row 2, bad row 3
    text = response.content.decode()
    assert "Vrstica 3, stolpec „leto“" in text
    assert not BudgetLine.objects.filter(year=2026).exists()

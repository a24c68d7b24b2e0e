"""Importing and exporting budget lines in the admin: preview, confirm, permissions."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from funding.models import BudgetLine
from tests.pages import open_form

pytestmark = pytest.mark.django_db

CSV_2026 = (
    "strategija;leto;društvo;kategorija;opis;znesek\r\n"
    "kras-2025-2029;2026;po-moc;Materialni stroški programa;indeksirano;6.855,42\r\n"
).encode("utf-8-sig")


def upload(client, content, name="vrstice.csv"):
    """Choose the CSV format and the file on the import page, and submit it."""
    form = open_form(client, reverse("admin:funding_budgetline_import"), field="import_file")
    form.choose("format", "csv")
    return form.submit(files={"import_file": SimpleUploadedFile(name, content)})


def confirm(client, preview):
    """Press "Confirm import" on the preview, posting its hidden fields as rendered."""
    url = reverse("admin:funding_budgetline_import")
    return open_form(client, url, button="confirm", response=preview).submit("confirm")


def test_a_coordinator_previews_then_confirms_an_import(demo, persona, client):
    client.force_login(persona("koordinator"))
    preview = upload(client, CSV_2026)
    assert preview.status_code == 200
    assert preview.context.get("confirm_form") is not None, preview.content.decode()[:3000]
    assert not BudgetLine.objects.filter(year=2026).exists()  # the preview writes nothing

    done = confirm(client, preview)
    assert done.status_code == 302
    line = BudgetLine.objects.get(year=2026)
    assert str(line.amount) == "6855.42"
    assert line.history.get().history_user.username == "koordinator"


def test_a_clerk_cannot_import(demo, persona, client):
    client.force_login(persona("referent.sezana"))
    url = reverse("admin:funding_budgetline_import")
    assert client.get(url).status_code == 403
    # Forged: the upload a clerk could send by hand to the page refused to them.
    forged = {"import_file": SimpleUploadedFile("vrstice.csv", CSV_2026), "format": "0"}
    assert client.post(url, forged).status_code == 403
    assert not BudgetLine.objects.filter(year=2026).exists()


def test_an_unreadable_file_is_explained_in_words(demo, persona, client):
    client.force_login(persona("koordinator"))
    response = upload(client, "strategija;leto\r\n".encode("utf-16"))
    errors = response.context["form"].errors["import_file"]
    assert any("UTF-16" in error for error in errors), errors
    assert not BudgetLine.objects.filter(year=2026).exists()


def test_the_export_is_semicolon_csv_of_the_readers_strategies(demo, persona, client):
    client.force_login(persona("uradnik.komen"))
    form = open_form(client, reverse("admin:funding_budgetline_export"), field="format")
    fields = ("strategy", "year", "association", "category", "note", "amount")
    assert all(form[f"budgetlineresource_{name}"] for name in fields)  # ticked as shown
    response = form.choose("format", "csv").submit()
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

"""The three seed reports generated from the demo data: page, PDF, council submission, index."""

import io
import re

import pytest
from pypdf import PdfReader

from funding.models import Municipality
from programs.models import AnnualReport, CouncilSubmission
from tests.factories import unpublished

pytestmark = pytest.mark.django_db


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def report_of(association_slug: str) -> AnnualReport:
    return AnnualReport.objects.get(association__slug=association_slug)


def page_url(report):
    return f"/reports/annual-reports/{report.pk}/"


def pdf_url(report):
    return f"/reports/annual-reports/{report.pk}.pdf"


@pytest.fixture
def velenje_reader(demo, persona, client):
    client.force_login(persona("svetnik.velenje"))
    return client


@pytest.fixture
def kranj_reader(demo, persona, client):
    client.force_login(persona("svetnik.kranj"))
    return client


def test_the_velenje_pdf_has_the_realisation_with_its_computed_sum(velenje_reader):
    response = velenje_reader.get(pdf_url(report_of("las-velenje")))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    for figure in [
        "25.883,79 EUR + 4.500,00 EUR",
        "30.383,79",
        "18.500,00",
        "2.187,36",
        "1.594,89",
        "684,54",
        "217,00",
        "Preventivni projekti MC Velenje (prerazporeditev)",
        "1872-0001/2024-530",
        "25. 3. 2025",
        "Janko Urbanc",
        "Stran 1/",
    ]:
        assert figure in text, figure
    # The document's typo is not repeated: the reallocation was 4,500.00.
    assert "4.566,00" not in text


def test_the_velenje_page_warns_about_the_stated_typo_and_draws_charts(velenje_reader):
    html = velenje_reader.get(page_url(report_of("las-velenje"))).content.decode()
    assert "4.566,00" in html  # quoted in the warning only
    assert 'role="alert"' in html
    assert "30.383,79" in html
    assert html.count("<svg") == 1  # realisation by programme; no indicator has a target
    assert "<script" not in html


def test_the_novus_report_shows_indicators_with_achievement(velenje_reader):
    report = report_of("novus")
    html = velenje_reader.get(page_url(report)).content.decode()
    assert html.count("<svg") == 1  # planned against achieved
    text = pdf_text(velenje_reader.get(pdf_url(report)).content)
    for figure in [
        "AS-Aktiviraj Se!",
        "23. 9. 2019–30. 9. 2022",
        "103,33 %",  # 62 of 60
        "40,32 %",
        "161,28 %",  # 40,32 of 25
        "250.109,76 EUR",
        "205 h",
        "Učinek",
        "Rezultat",
    ]:
        assert figure.lower() in text.lower(), figure


def test_the_kranj_submission_reads_like_the_2004_original(kranj_reader):
    submission = CouncilSubmission.objects.get(municipality__slug="kranj")
    response = kranj_reader.get(f"/reports/council-submissions/{submission.pk}.pdf")
    assert response.status_code == 200
    text = pdf_text(response.content)
    for part in [
        "SVET MESTNE OBČINE KRANJ",
        "ZADEVA:",
        "Program za pomoč, terapijo in socialno rehabilitacijo zasvojenih Kranj – poročilo za "
        "leto 2004",
        "Svetu Mestne občine Kranj predlagamo, da sprejme naslednji:",
        "SKLEP:",
        "Svet Mestne občine Kranj se je seznanil s poročilom",
        "Manja Vovk",
        "Mohor Bogataj",
        "ŽUPAN",
        "Poročilo",
    ]:
        assert part in text, part
    figures = re.search(r"Uporabniki (\d+)", text)
    assert figures and figures.group(1) == "122"
    for label, value in [
        ("Starši in svojci", "93"),
        ("Prvi stiki z uporabniki", "210"),
        ("Prvi stiki s starši in svojci", "91"),
        ("Strokovni delavci", "3"),
        ("Javni delavci", "1"),
        ("Prostovoljci", "4"),
    ]:
        assert f"{label} {value}" in text, label
    assert "35 %" in text


def test_an_edited_resolution_is_what_the_pdf_prints(kranj_reader):
    submission = CouncilSubmission.objects.get(municipality__slug="kranj")
    submission.resolution = "Svet Mestne občine Kranj poročilo sprejme in ga objavi."
    submission.save()
    text = pdf_text(kranj_reader.get(f"/reports/council-submissions/{submission.pk}.pdf").content)
    assert "Svet Mestne občine Kranj poročilo sprejme in ga objavi." in text
    assert "se je seznanil" not in text


def test_markup_in_report_texts_stays_text(velenje_reader):
    report = report_of("las-velenje")
    report.sections.update(body='<img src="http://example.com/x.png"><b>drzno</b>')
    html = velenje_reader.get(page_url(report)).content.decode()
    assert "&lt;img src=&quot;http://example.com/x.png&quot;&gt;&lt;b&gt;drzno" in html
    text = pdf_text(velenje_reader.get(pdf_url(report)).content)
    assert "<b>drzno</b>" in text


@pytest.mark.parametrize(
    ("username", "visible", "hidden"),
    [
        ("svetnik.velenje", ["las-velenje", "novus"], ["csd-kranj"]),
        ("svetnik.kranj", ["csd-kranj"], ["las-velenje", "novus"]),
        ("uradnik.velenje", ["las-velenje", "novus"], ["csd-kranj"]),
        ("admin", ["las-velenje", "novus", "csd-kranj"], []),
        ("uradnik.sezana", [], ["las-velenje", "novus", "csd-kranj"]),
        ("referent.sezana", [], ["las-velenje", "novus", "csd-kranj"]),
        ("zunanji", [], ["las-velenje", "novus", "csd-kranj"]),
    ],
)
def test_each_role_reads_only_its_municipalities_reports(
    demo, persona, client, username, visible, hidden
):
    client.force_login(persona(username))
    index = client.get("/reports/").content.decode()
    for slug in visible:
        report = report_of(slug)
        assert client.get(page_url(report)).status_code == 200
        assert page_url(report) in index
        assert pdf_url(report) in index  # the PDF goes through the same check; rendered above
    # Not found, as a report that does not exist; refused outright to a role that reads none.
    refused = 403 if username == "zunanji" else 404
    for slug in hidden:
        report = report_of(slug)
        assert client.get(page_url(report)).status_code == refused
        assert client.get(pdf_url(report)).status_code == refused
        assert page_url(report) not in index


def test_drafts_are_hidden_from_council_members_but_not_from_officers(demo, persona, client):
    report = report_of("las-velenje")
    AnnualReport.objects.filter(pk=report.pk).update(status=AnnualReport.Status.DRAFT)
    client.force_login(persona("svetnik.velenje"))
    assert client.get(page_url(report)).status_code == 404
    assert client.get(pdf_url(report)).status_code == 404
    assert page_url(report) not in client.get("/reports/").content.decode()
    client.force_login(persona("uradnik.velenje"))
    assert client.get(page_url(report)).status_code == 200
    index = client.get("/reports/").content.decode()
    assert page_url(report) in index
    assert "osnutek" in index  # the draft is marked as one


def test_the_submission_is_for_its_own_council_only(demo, persona, client):
    submission = CouncilSubmission.objects.get(municipality__slug="kranj")
    url = f"/reports/council-submissions/{submission.pk}.pdf"
    for username, refused in [("svetnik.velenje", 404), ("uradnik.sezana", 404), ("zunanji", 403)]:
        client.force_login(persona(username))
        assert client.get(url).status_code == refused, username
    # Reported to Velenje too, the report is readable there, but the council is Kranj's.
    with unpublished(submission.report):
        submission.report.municipalities.add(Municipality.objects.get(slug="velenje"))
    client.force_login(persona("svetnik.velenje"))
    assert client.get(page_url(submission.report)).status_code == 200
    assert client.get(url).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(demo, client):
    for url in ["/reports/", page_url(report_of("novus")), pdf_url(report_of("novus"))]:
        response = client.get(url)
        assert response.status_code == 302
        assert "/login/" in response["Location"]


@pytest.mark.parametrize(
    "url",
    [
        "/reports/annual-reports/999999/",
        "/reports/annual-reports/999999.pdf",
        "/reports/council-submissions/999999.pdf",
    ],
)
def test_unknown_documents_are_404_with_a_message(velenje_reader, url):
    response = velenje_reader.get(url)
    assert response.status_code == 404
    assert "999999" in response.content.decode()


def test_a_report_has_no_other_format(velenje_reader):
    response = velenje_reader.get(f"/reports/annual-reports/{report_of('novus').pk}.docx")
    assert response.status_code == 404
    assert "docx" in response.content.decode()


def test_the_index_lists_documents_by_year(demo, persona, client):
    client.force_login(persona("admin"))
    html = client.get("/reports/").content.decode()
    years = [int(y) for y in re.findall(r"<h2>(\d{4})</h2>", html)]
    assert years == sorted(years, reverse=True)
    assert {2029, 2025, 2024, 2020, 2004} <= set(years)
    assert "/reports/strategies/kras-2025-2029/2025/cost-sharing/" in html

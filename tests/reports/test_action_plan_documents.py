"""Action plans as documents: the seed's table by chapter, the funding total, progress, filters."""

import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from programs.models import (
    ActionPlan,
    Activity,
    ActivityInstitution,
    ActivityProgress,
    Institution,
    Objective,
    PlanChapter,
    PlanFunding,
)
from reports.action_plans import action_plan_document
from tests.reports.readers import ACTION_PLAN_READERS

pytestmark = pytest.mark.django_db

SLUG = "preskus-2019-2020"
PAGE = f"/reports/action-plans/{SLUG}/"
PDF = f"/reports/action-plans/{SLUG}.pdf"
PROGRESS = f"/reports/action-plans/{SLUG}/progress/"
PROGRESS_PDF = f"/reports/action-plans/{SLUG}/progress.pdf"
# The seed's funders and their annual amounts (its introduction); they add up to its total.
SEED_FUNDING = [
    ("MDDSZEM", "3888886.00"),
    ("MZ", "831744.00"),
    ("ZZZS", "4942000.00"),
    ("ZZZS", "149000.00"),
    ("URSM", "55687.00"),
    ("Policija", "250000.00"),
]
NAMES = {
    "MZ": "Ministrstvo za zdravje",
    "NIJZ": "Nacionalni inštitut za javno zdravje",
    "MDDSZEM": "Ministrstvo za delo, družino, socialne zadeve in enake možnosti",
    "ZZZS": "Zavod za zdravstveno zavarovanje Slovenije",
    "URSM": "Urad Republike Slovenije za mladino",
    "Policija": "Ministrstvo za notranje zadeve, Policija",
}


def institution(short_name: str) -> Institution:
    # The demo loads the seed's institutions as shared records; reuse them when present.
    found, _created = Institution.objects.get_or_create(
        short_name=short_name, defaults={"name": NAMES[short_name]}
    )
    return found


def activity(objective, position, text, periods, results, lead, partners=()):
    created = Activity.objects.create(
        objective=objective, position=position, text=text, periods=periods, expected_results=results
    )
    ActivityInstitution.objects.create(
        activity=created, institution=institution(lead), is_lead=True
    )
    for index, partner in enumerate(partners, start=1):
        ActivityInstitution.objects.create(
            activity=created, institution=institution(partner), position=index
        )
    return created


@pytest.fixture
def plan(db):
    """Two chapters in the seed's shape; two activities share their results and institutions."""
    plan = ActionPlan.objects.create(
        title="Akcijski načrt na področju preskusa za obdobje 2019–2020",
        slug=SLUG,
        start_year=2019,
        end_year=2020,
        issuer="Vlada Republike Slovenije",
        introduction="Vlada sprejema akcijski načrt.\nZa dve leti.\n\nOcena je 10 mio € letno.",
        stated_total=Decimal("10117317.00"),
    )
    # Created in the reverse order: the documents follow the positions.
    coordination = PlanChapter.objects.create(
        plan=plan, title="Koordinacija, financiranje", position=2
    )
    law = PlanChapter.objects.create(plan=plan, title="Zakonodaja", position=1)
    zppd = Objective.objects.create(chapter=law, text="Predlog sprememb ZPPPD", position=1)
    results = "Predlog sprememb in dopolnitev ZPPPD\nSprejetje v Državnem zboru RS"
    activity(zppd, 1, "Imenovanje delovne skupine", "2019-2", results, "MZ", ["NIJZ"])
    activity(zppd, 2, "Analiza zakona", "2019-2 2020-1", results, "MZ", ["NIJZ"])
    forum = Objective.objects.create(chapter=coordination, text="Posvetovalni forum o drogah")
    activity(forum, 1, "Oblikovanje idejne zasnove", "2019-1 2019-2", "Poročila", "NIJZ", ["MZ"])
    activity(forum, 2, "Redni periodični sestanki", "2019-2 2020-2", "", "MDDSZEM")
    for position, (funder, amount) in enumerate(SEED_FUNDING):
        PlanFunding.objects.create(
            plan=plan, funder=institution(funder), amount=Decimal(amount), position=position
        )
    return plan


@pytest.fixture
def progress(plan):
    """Two half-years done, one late, one in progress; the other three are planned."""
    done, late, running = "done", "late", "in_progress"
    for text, period, status, note in [
        ("Imenovanje delovne skupine", "2019-2", done, "Skupina imenovana 12. 9. 2019."),
        ("Analiza zakona", "2019-2", done, ""),
        ("Analiza zakona", "2020-1", late, "Čaka na mnenja ministrstev."),
        ("Oblikovanje idejne zasnove", "2019-1", running, ""),
    ]:
        ActivityProgress.objects.create(
            activity=activity_of(text), period=period, status=status, note=note
        )
    return plan


@pytest.fixture
def reader(demo, persona, client):
    client.force_login(persona("svetnik.sezana"))
    return client


def activity_of(text: str) -> Activity:
    """The test plan's activity of that text (the demo's plan has activities of the same name)."""
    return Activity.objects.get(text=text, objective__chapter__plan__slug=SLUG)


def row_html(page: str, text: str) -> str:
    pk = activity_of(text).pk
    match = re.search(rf'<tr id="activity-{pk}">(.*?)</tr>', page, re.DOTALL)
    assert match, f"no row for {text!r}"
    return match.group(1)


def marks(row: str) -> dict[str, str]:
    cells = re.findall(r'<td class="period[^"]*" data-period="([^"]+)">(X?)</td>', row)
    return dict(cells)


def pdf_text(content: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(content))
    text = " ".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text), len(reader.pages)


def sl(message: str, **params) -> str:
    """A message as the Slovenian page prints it."""
    with translation.override("sl"):
        return translation.gettext(message) % params


def test_the_page_has_the_chapters_in_order_and_x_in_each_half_year_of_an_activity(reader, plan):
    page = reader.get(PAGE).content.decode()
    assert page.index("Zakonodaja") < page.index("Koordinacija, financiranje")
    assert page.index("Imenovanje delovne skupine") < page.index("Analiza zakona")
    assert marks(row_html(page, "Analiza zakona")) == {
        "2019-1": "",
        "2019-2": "X",
        "2020-1": "X",
        "2020-2": "",
    }
    assert marks(row_html(page, "Redni periodični sestanki")) == {
        "2019-1": "",
        "2019-2": "X",
        "2020-1": "",
        "2020-2": "X",
    }
    assert "Vlada sprejema akcijski načrt. Za dve leti." in page


def test_the_lead_is_bold_and_first_and_partners_are_not(reader, plan):
    row = row_html(reader.get(PAGE).content.decode(), "Oblikovanje idejne zasnove")
    lead = '<li class="lead"><strong><abbr title="Nacionalni inštitut za javno zdravje">NIJZ'
    partner = '<li class="partner"><abbr title="Ministrstvo za zdravje">MZ</abbr></li>'
    assert lead in row
    assert partner in row
    assert row.index(lead) < row.index(partner)
    assert row.count("<strong>") == 1


def test_an_objective_spans_its_activities_and_equal_cells_are_merged(reader, plan):
    page = reader.get(PAGE).content.decode()
    first = row_html(page, "Imenovanje delovne skupine")
    second = row_html(page, "Analiza zakona")
    assert '<th scope="rowgroup" rowspan="2" class="objective"><p>Predlog sprememb ZPPPD' in first
    # One results cell, one institutions cell for both, each result on its own line.
    assert (
        '<td class="results" rowspan="2"><p>Predlog sprememb in dopolnitev ZPPPD</p>'
        "<p>Sprejetje v Državnem zboru RS</p></td>"
    ) in first
    assert '<td class="responsible" rowspan="2">' in first
    assert 'class="results"' not in second
    assert 'class="responsible"' not in second
    assert 'class="objective"' not in second
    # Different results are never merged, nor are empty ones.
    forum = row_html(page, "Redni periodični sestanki")
    assert '<td class="results" rowspan="1"></td>' in forum


def test_the_funding_total_is_computed_and_matches_the_stated_one(reader, plan):
    document = action_plan_document(plan)
    assert document.total == Decimal("10117317.00") == plan.stated_total
    assert not document.total_differs
    assert [group.funder.short_name for group in document.funders] == [
        "MDDSZEM",
        "MZ",
        "ZZZS",
        "URSM",
        "Policija",
    ]
    assert document.funders[2].total == Decimal("5091000.00")
    page = reader.get(PAGE).content.decode()
    total = re.search(r'<tr class="total">(.*?)</tr>', page, re.DOTALL)
    assert total
    assert '<td class="num">10.117.317,00</td>' in total.group(1)
    assert '<td class="num">3.888.886,00</td>' in page
    assert 'class="problem total-note"' not in page
    assert 'class="ok total-note"' in page


def test_a_stated_total_that_differs_is_shown_with_both_figures(reader, plan):
    plan.stated_total = Decimal("10117318.00")
    plan.save()
    page = reader.get(PAGE).content.decode()
    note = re.search(r'<p class="problem total-note">(.*?)</p>', page, re.DOTALL)
    assert note
    assert "10.117.318,00" in note.group(1)
    assert "10.117.317,00" in note.group(1)


def test_the_pdf_reads_like_the_seed_with_its_figures_and_page_numbers(reader, plan):
    response = reader.get(PDF)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{SLUG}.pdf"' in response["Content-Disposition"]
    text, pages = pdf_text(response.content)
    for figure in ["10.117.317,00", "3.888.886,00", "831.744,00", "4.942.000,00", "5.091.000,00"]:
        assert figure in text
    assert sl("Chapter of the strategy: %(title)s", title="Zakonodaja") in text
    assert "Imenovanje delovne skupine" in text
    assert "Ministrstvo za delo, družino, socialne zadeve in enake možnosti" in text
    # A4 landscape; the intro and funding, then each chapter on its own page.
    assert pages >= 3
    assert f"Stran 1/{pages}" in text
    assert f"Stran {pages}/{pages}" in text
    first = PdfReader(io.BytesIO(response.content)).pages[0]
    assert first.mediabox.width > first.mediabox.height


@pytest.mark.parametrize("typed", ["MZ", "mz"])
def test_the_institution_filter_lists_only_its_activities_with_its_role(reader, plan, typed):
    page = reader.get(PAGE, {"institution": typed}).content.decode()
    for text in ["Imenovanje delovne skupine", "Analiza zakona", "Oblikovanje idejne zasnove"]:
        assert f'id="activity-{activity_of(text).pk}"' in page
    assert "Redni periodični sestanki" not in page
    # MZ leads the ZPPPD activities (one merged cell) and is a partner in the forum's.
    assert page.count('class="role role-lead"') == 1
    assert page.count('class="role role-partner"') == 1
    assert sl("%(name)s: lead", name="MZ") in page
    assert sl("%(name)s: partner", name="MZ") in page
    assert '<option value="MZ" selected>' in page
    assert f'href="{PDF}?institution=MZ"' in page
    document = action_plan_document(plan, institution=Institution.objects.get(short_name="MZ"))
    assert (len(document.rows), document.lead_count, document.partner_count) == (3, 2, 1)
    # Its own funding, not the plan's whole table.
    assert "831.744,00" in page
    assert "10.117.317,00" not in page


def test_an_institution_without_activities_in_the_plan_gets_an_empty_list(reader, plan):
    page = reader.get(PAGE, {"institution": "ZZZS"}).content.decode()
    assert 'id="activity-' not in page
    assert "5.091.000,00" in page  # what it funds


def test_an_unknown_institution_is_not_found_and_named(reader, plan, settings):
    settings.LANGUAGE_CODE = "en"
    response = reader.get(PAGE, {"institution": "MZZ<b>"})
    assert response.status_code == 404
    assert "There is no institution “MZZ&lt;b&gt;”." in response.content.decode()
    assert reader.get(PROGRESS_PDF, {"institution": "MZZ"}).status_code == 404


def test_an_unknown_plan_is_not_found(reader, plan, settings):
    settings.LANGUAGE_CODE = "en"
    response = reader.get("/reports/action-plans/ni-ga/")
    assert response.status_code == 404
    assert "There is no action plan “ni-ga”." in response.content.decode()


def test_progress_counts_each_half_year_as_recorded_or_planned(progress):
    document = action_plan_document(progress)
    counts = {status: count for status, _label, count in document.summary.counts}
    assert counts == {"planned": 3, "in_progress": 1, "done": 2, "late": 1}
    assert document.summary.total == 7
    assert document.summary.percent_done == Decimal("28.57")
    law, coordination = document.chapters
    assert law.chapter.title == "Zakonodaja"
    assert (law.summary.total, law.summary.done, law.summary.percent_done) == (
        3,
        2,
        Decimal("66.67"),
    )
    assert coordination.summary.percent_done == Decimal("0.00")
    assert progress.progress_summary() == {**counts, "total": 7}


def test_progress_recorded_after_an_activitys_half_years_is_shown_and_counted(progress):
    ActivityProgress.objects.create(
        activity=activity_of("Imenovanje delovne skupine"),
        period="2020-1",
        status="late",
        note="Še ni sprejeto.",
    )
    document = action_plan_document(progress)
    assert document.summary.total == 8
    cell = document.chapters[0].objectives[0].rows[0].half_years[2]
    assert (cell.period, cell.scheduled, cell.status) == ("2020-1", False, "late")
    assert progress.progress_summary()["total"] == 8


def test_the_progress_page_shows_statuses_notes_and_the_summary(reader, progress):
    page = reader.get(PROGRESS).content.decode()
    row = row_html(page, "Analiza zakona")
    assert 'data-period="2019-2" data-status="done"' in row
    assert 'data-period="2020-1" data-status="late"' in row
    assert "Čaka na mnenja ministrstev." in row
    missing = row_html(page, "Redni periodični sestanki")
    assert 'data-period="2019-2" data-status="planned"' in missing
    assert 'data-period="2019-1" data-status=""' in missing
    assert "28,57 %" in page
    assert "66,67 %" in page


def test_the_progress_pdf_of_one_institution(reader, progress):
    response = reader.get(PROGRESS_PDF, {"institution": "MDDSZEM"})
    assert response.status_code == 200
    assert f'filename="{SLUG}-napredek-mddszem.pdf"' in response["Content-Disposition"]
    text, pages = pdf_text(response.content)
    assert "Redni periodični sestanki" in text
    assert "Analiza zakona" not in text
    assert f"Stran 1/{pages}" in text


def test_the_document_takes_the_same_queries_whatever_the_plans_size(
    plan, django_assert_num_queries
):
    # Chapters, objectives, activities, their institutions and progress, funding.
    with django_assert_num_queries(6):
        action_plan_document(plan)
    objective = Objective.objects.get(text="Posvetovalni forum o drogah", chapter__plan=plan)
    for position in range(3, 13):
        activity(objective, position, f"Dejavnost {position}", "2020-1", "", "MZ", ["NIJZ"])
    nijz = Institution.objects.get(short_name="NIJZ")
    with django_assert_num_queries(6):
        action_plan_document(plan, institution=nijz)


@pytest.mark.parametrize(("username", "status"), ACTION_PLAN_READERS)
@pytest.mark.parametrize("url", ["/reports/action-plans/", PAGE, PROGRESS])
def test_each_persona_reads_the_plans_as_its_role_allows(
    plan, persona, client, username, status, url
):
    client.force_login(persona(username))
    assert client.get(url).status_code == status


@pytest.mark.parametrize("url", [PDF, PROGRESS_PDF])
def test_an_outsider_gets_no_pdf_and_an_anonymous_visitor_is_sent_to_log_in(
    plan, persona, client, url
):
    client.force_login(persona("zunanji"))
    assert client.get(url).status_code == 403
    client.logout()
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_the_index_and_the_list_link_the_plans(reader, plan):
    index = reader.get(reverse("reports:index")).content.decode()
    assert 'href="/reports/action-plans/"' in index
    listing = reader.get("/reports/action-plans/").content.decode()
    for url in [PAGE, PDF, PROGRESS, PROGRESS_PDF]:
        assert f'href="{url}"' in listing


def test_the_index_does_not_offer_plans_to_a_role_without_them(plan, persona, client):
    client.force_login(persona("zunanji"))
    assert "/reports/action-plans/" not in client.get(reverse("reports:index")).content.decode()


def test_the_demo_plan_reads_like_the_seed(reader):
    plan = ActionPlan.objects.get(slug="droge-2019-2020")
    document = action_plan_document(plan)
    assert [chapter.chapter.title for chapter in document.chapters] == [
        "Zakonodaja",
        "Koordinacija, financiranje",
        "Informacijski sistem",
    ]
    # The introduction's "10.117.317,00 € letno" is the sum of the funders' amounts.
    assert document.total == plan.stated_total == Decimal("10117317.00")
    page = reader.get("/reports/action-plans/droge-2019-2020/").content.decode()
    assert "10.117.317,00" in page
    assert 'class="ok total-note"' in page
    forum = Activity.objects.get(
        text="Oblikovanje in razvoj idejne zasnove", objective__chapter__plan=plan
    )
    row = re.search(rf'<tr id="activity-{forum.pk}">(.*?)</tr>', page, re.DOTALL).group(1)
    assert marks(row) == {"2019-1": "X", "2019-2": "X", "2020-1": "", "2020-2": ""}
    assert '<li class="lead"><strong><abbr title="Ministrstvo za zdravje">MZ</abbr>' in row
    # What the Ministry of Health is responsible for: that activity among them, as the lead.
    mz = action_plan_document(plan, institution=Institution.objects.get(short_name="MZ"))
    roles = {row.activity.text: row.role for row in mz.rows}
    assert roles["Oblikovanje in razvoj idejne zasnove"] == "lead"
    assert "Imenovanje delovne skupine" not in roles  # the commission's, not the ministry's


def test_the_plans_admin_page_links_its_documents(plan, persona, client):
    client.force_login(persona("koordinator"))
    page = client.get(reverse("admin:programs_actionplan_change", args=[plan.pk])).content.decode()
    for url in [PAGE, PDF, PROGRESS]:
        assert f'href="{url}"' in page

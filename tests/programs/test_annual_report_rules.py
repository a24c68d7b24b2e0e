"""Annual reports, indicators, funding and council submissions: the rules the models and services
keep, and the demo data checked against the seed documents' figures."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import translation

from funding.models import MunicipalBudgetItem, Municipality
from funding.realisation import item_realisation
from programs.models import (
    AnnualReport,
    CouncilSubmission,
    Indicator,
    Project,
    ReportFunding,
    ReportSection,
)
from programs.services import council_name, council_submission_create, report_advance
from tests.factories import (
    AnnualReportFactory,
    AssociationFactory,
    IndicatorFactory,
    MunicipalityFactory,
    ProgrammeFactory,
    ProjectFactory,
)

pytestmark = pytest.mark.django_db

KRANJ_PROGRAMME = "Program za pomoč, terapijo in socialno rehabilitacijo zasvojenih Kranj"


def refusal(obj, language="sl") -> dict[str, list[str]]:
    """The messages full_clean gives, by field, in the language; fails when nothing is refused."""
    with translation.override(language):
        with pytest.raises(ValidationError) as raised:
            obj.full_clean()
        return raised.value.message_dict  # lazy messages render in the active language


# Indicators


def test_a_negative_achieved_value_is_refused_by_validation_and_by_the_database():
    report = AnnualReportFactory()
    indicator = Indicator(report=report, name="Udeleženci", achieved=Decimal("-1"))
    # The limit reads as officers write numbers: 0,00, not Python's 0.00.
    assert refusal(indicator)["achieved"] == ["Poskrbite, da bo ta vrednost večja ali enaka 0,00."]
    with pytest.raises(IntegrityError), transaction.atomic():
        indicator.save()
    assert not Indicator.objects.filter(report=report).exists()


@pytest.mark.parametrize(
    ("field", "typed", "shown"),
    [("achieved", "4032", "4.032,00"), ("planned", "101", "101,00")],
)
def test_a_percentage_above_100_is_refused_quoting_the_typed_value(field, typed, shown):
    report = AnnualReportFactory()
    values = {"achieved": Decimal("40.32"), "planned": Decimal("25"), field: Decimal(typed)}
    indicator = Indicator(report=report, name="Delež", unit=Indicator.Unit.PERCENT, **values)
    messages = refusal(indicator)[field]
    assert any(shown in message for message in messages), messages
    with pytest.raises(IntegrityError), transaction.atomic():
        indicator.save()
    assert not Indicator.objects.filter(report=report).exists()


def test_a_percentage_of_exactly_100_is_accepted():
    report = AnnualReportFactory()
    indicator = Indicator(
        report=report,
        name="Delež",
        unit=Indicator.Unit.PERCENT,
        planned=Decimal("100"),
        achieved=Decimal("100"),
    )
    indicator.full_clean()
    indicator.save()
    stored = Indicator.objects.get(report=report)
    assert (stored.planned, stored.achieved) == (Decimal("100.00"), Decimal("100.00"))


def test_a_count_above_100_is_not_a_percentage_and_is_accepted():
    indicator = IndicatorFactory.build(report=AnnualReportFactory(), achieved=Decimal("4032"))
    indicator.full_clean()
    indicator.save()
    assert Indicator.objects.get(pk=indicator.pk).achieved == Decimal("4032.00")


def test_the_associations_part_cannot_exceed_the_whole():
    report = AnnualReportFactory()
    indicator = Indicator(
        report=report,
        name="Enote",
        achieved=Decimal("4"),
        achieved_by_association=Decimal("5"),
    )
    messages = refusal(indicator)["achieved_by_association"]
    assert "5,00" in messages[0] and "4,00" in messages[0]
    indicator.achieved_by_association = Decimal("4")
    indicator.full_clean()  # the whole is allowed
    assert not Indicator.objects.filter(report=report).exists()


def test_an_indicator_of_another_associations_project_is_refused():
    report = AnnualReportFactory(year=2020)
    project = ProjectFactory(name="Tuji projekt")  # another association
    indicator = IndicatorFactory.build(report=report, project=project)
    messages = refusal(indicator)["project"]
    assert "Tuji projekt" in messages[0]
    assert not Indicator.objects.filter(report=report).exists()


def test_an_indicator_of_a_project_that_does_not_run_in_the_year_is_refused():
    report = AnnualReportFactory(year=2023)
    project = ProjectFactory(association=report.association, name="AS-Aktiviraj Se!")
    indicator = IndicatorFactory.build(report=report, project=project)
    messages = refusal(indicator)["project"]
    assert "AS-Aktiviraj Se!" in messages[0]
    assert not Indicator.objects.filter(report=report).exists()
    report.year = 2022  # the project's last year still counts
    report.save()
    indicator.full_clean()


@pytest.mark.parametrize(
    ("achieved", "planned", "percent"),
    [
        ("62", "60", Decimal("103.33")),
        ("40.32", "25", Decimal("161.28")),
        ("2", "3", Decimal("66.67")),
        ("1", "800", Decimal("0.13")),  # exactly 0.125: half-up, not half-even
        ("5", None, None),
        ("5", "0", None),
    ],
)
def test_achievement_is_achieved_over_planned_rounded_half_up(achieved, planned, percent):
    indicator = Indicator(
        achieved=Decimal(achieved), planned=Decimal(planned) if planned is not None else None
    )
    assert indicator.achievement_percent == percent


# Annual reports


def test_a_report_outside_its_programmes_period_is_refused_in_slovenian():
    programme = ProgrammeFactory(name="Svetovalnica Posvet", start_year=2010, end_year=2015)
    report = AnnualReportFactory.build(
        association=programme.association, programme=programme, year=2016
    )
    slovenian = refusal(report, "sl")["year"][0]
    english = refusal(report, "en")["year"][0]
    assert "Svetovalnica Posvet" in slovenian
    assert "2010–2015" in slovenian
    assert slovenian != english, "the message is not translated into Slovenian"
    assert not AnnualReport.objects.exists()
    report.year = 2015
    report.full_clean()


def test_a_report_before_an_open_ended_programme_starts_is_refused():
    programme = ProgrammeFactory(name="Harmonija", start_year=2008)
    report = AnnualReportFactory.build(
        association=programme.association, programme=programme, year=2007
    )
    messages = refusal(report)["year"]
    assert "Harmonija" in messages[0] and "2008" in messages[0]
    report.year = 2030
    report.full_clean()


def test_a_report_on_another_associations_programme_is_refused():
    programme = ProgrammeFactory(name="Tuji program")
    report = AnnualReportFactory.build(association=AssociationFactory(), programme=programme)
    messages = refusal(report)["programme"]
    assert "Tuji program" in messages[0]
    assert not AnnualReport.objects.exists()


def test_women_and_men_together_cannot_exceed_the_users():
    report = AnnualReportFactory.build(
        association=AssociationFactory(), users=10, users_women=6, users_men=5
    )
    messages = refusal(report)["users_women"]
    assert "11" in messages[0] and "10" in messages[0]
    assert not AnnualReport.objects.exists()
    report.users_men = 4
    report.full_clean()


def test_a_programme_has_one_report_per_year():
    programme = ProgrammeFactory()
    AnnualReportFactory(association=programme.association, programme=programme, year=2020)
    twin = AnnualReportFactory.build(
        association=programme.association, programme=programme, year=2020
    )
    assert refusal(twin)
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()
    assert AnnualReport.objects.filter(programme=programme).count() == 1
    twin.year = 2021
    twin.full_clean()


def test_an_association_has_one_whole_association_report_per_year():
    first = AnnualReportFactory(year=2020)
    twin = AnnualReportFactory.build(association=first.association, year=2020)
    assert refusal(twin)
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()
    assert AnnualReport.objects.filter(association=first.association).count() == 1


# Funding by source


def test_a_funding_source_needs_an_amount_or_a_share():
    report = AnnualReportFactory()
    funding = ReportFunding(report=report, source="Mestna občina Kranj")
    messages = refusal(funding)
    assert any("Mestna občina Kranj" in m for m in messages["__all__"]), messages
    funding.share_percent = Decimal("35")
    funding.full_clean()
    assert not ReportFunding.objects.filter(report=report).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("share_percent", "0"), ("share_percent", "100.01"), ("amount", "-0.01")],
)
def test_a_share_outside_0_to_100_or_a_negative_amount_is_refused(field, value):
    report = AnnualReportFactory()
    funding = ReportFunding(report=report, source="MDDSZEM", **{field: Decimal(value)})
    assert field in refusal(funding)
    with pytest.raises(IntegrityError), transaction.atomic():
        funding.save()
    assert not ReportFunding.objects.filter(report=report).exists()


# Status: draft → submitted → published


def test_a_report_moves_from_draft_to_submitted_to_published():
    report = AnnualReportFactory(municipalities=[MunicipalityFactory()])
    report_advance(report=report)
    report.refresh_from_db()
    assert report.status == AnnualReport.Status.SUBMITTED
    assert report.submitted_at is not None and report.published_at is None
    submitted_at = report.submitted_at
    report_advance(report=report)
    report.refresh_from_db()
    assert report.status == AnnualReport.Status.PUBLISHED
    assert report.submitted_at == submitted_at
    assert report.published_at is not None and report.published_at >= submitted_at


def test_a_published_report_does_not_move_on():
    published_at = datetime.datetime(2025, 3, 25, 9, tzinfo=datetime.UTC)
    report = AnnualReportFactory(
        municipalities=[MunicipalityFactory()],
        status=AnnualReport.Status.PUBLISHED,
        published_at=published_at,
    )
    with pytest.raises(ValidationError):
        report_advance(report=report)
    report.refresh_from_db()
    assert (report.status, report.published_at) == (AnnualReport.Status.PUBLISHED, published_at)


def test_a_report_without_municipalities_cannot_be_submitted():
    report = AnnualReportFactory()
    with pytest.raises(ValidationError) as raised:
        report_advance(report=report)
    assert raised.value.code == "no_municipality"
    report.refresh_from_db()
    assert (report.status, report.submitted_at) == (AnnualReport.Status.DRAFT, None)


def test_a_draft_with_an_invalid_indicator_cannot_be_submitted():
    report = AnnualReportFactory(municipalities=[MunicipalityFactory()])
    indicator = IndicatorFactory(report=report, achieved=Decimal("4"))
    # Written past validation, as an old import or a shell session might have.
    Indicator.objects.filter(pk=indicator.pk).update(achieved_by_association=Decimal("5"))
    with pytest.raises(ValidationError) as raised:
        report_advance(report=report)
    assert "achieved_by_association" in raised.value.message_dict
    report.refresh_from_db()
    assert (report.status, report.submitted_at) == (AnnualReport.Status.DRAFT, None)


# Council submissions


@pytest.fixture
def kranj_report(demo):
    return AnnualReport.objects.get(association__slug="csd-kranj", year=2004)


def test_a_council_submission_for_kranj_addresses_its_council_in_slovenian(kranj_report):
    kranj = Municipality.objects.get(slug="kranj")
    kranj_report.council_submissions.all().delete()  # the seed's own submission
    with translation.override("sl"):
        council_submission_create(report=kranj_report, municipality=kranj)
    submission = CouncilSubmission.objects.get(report=kranj_report, municipality=kranj)
    assert submission.council == "Svet Mestne občine Kranj"
    assert KRANJ_PROGRAMME in submission.subject and "2004" in submission.subject
    assert submission.proposal.startswith("Svetu Mestne občine Kranj")
    assert submission.resolution.startswith("Svet Mestne občine Kranj")
    # In Slovenian, as the seed submission words them.
    assert "predlagamo" in submission.proposal, submission.proposal
    assert "seznanil" in submission.resolution, submission.resolution
    assert submission.body.startswith("Center za odvisnosti je na pobudo")


def test_a_programme_report_without_the_year_in_its_title_gets_it_in_the_subject():
    programme = ProgrammeFactory(name="Center za družine Harmonija", start_year=2008)
    municipality = MunicipalityFactory(name="Mestna občina Velenje")
    report = AnnualReportFactory(
        association=programme.association,
        programme=programme,
        year=2020,
        title="Poročilo centra",
        municipalities=[municipality],
    )
    ReportSection.objects.create(report=report, body="Prvi odstavek.")
    ReportSection.objects.create(report=report, body="Drugi odstavek.", position=1)
    council_submission_create(report=report, municipality=municipality)
    submission = CouncilSubmission.objects.get(report=report)
    assert "Center za družine Harmonija" in submission.subject and "2020" in submission.subject
    assert submission.council == "Svet Mestne občine Velenje"
    assert submission.body == "Prvi odstavek.\n\nDrugi odstavek."


def test_a_report_without_narrative_sections_still_gets_a_submission_to_edit():
    # The service promises a submission "ready to edit", refused only for a municipality the
    # report is not reported to; the body is for the officer to write.
    municipality = MunicipalityFactory(name="Občina Komen")
    report = AnnualReportFactory(municipalities=[municipality])
    assert not report.sections.exists()
    council_submission_create(report=report, municipality=municipality)
    submission = CouncilSubmission.objects.get(report=report, municipality=municipality)
    assert submission.council == "Občinski svet Občine Komen"


@pytest.mark.parametrize(
    ("name", "council"),
    [
        ("Mestna občina Kranj", "Svet Mestne občine Kranj"),
        ("Občina Komen", "Občinski svet Občine Komen"),
        ("Občina Hrpelje-Kozina", "Občinski svet Občine Hrpelje-Kozina"),
        ("Zveza občin", "Zveza občin"),
    ],
)
def test_the_council_is_named_from_the_municipalitys_official_name(name, council):
    assert council_name(Municipality(name=name)) == council


def test_a_submission_for_a_municipality_the_report_is_not_reported_to_is_refused(kranj_report):
    velenje = Municipality.objects.get(slug="velenje")
    submission = CouncilSubmission(
        report=kranj_report,
        municipality=velenje,
        council="Svet Mestne občine Velenje",
        subject="Poročilo",
        body="Besedilo",
        proposal="Predlog",
        resolution="Sklep",
    )
    assert "municipality" in refusal(submission)
    with pytest.raises(ValidationError):
        council_submission_create(report=kranj_report, municipality=velenje)
    assert not CouncilSubmission.objects.filter(municipality=velenje).exists()


# The demo data against the seed documents


def test_the_kranj_2004_report_has_the_seeds_figures(kranj_report):
    figures = {
        name: getattr(kranj_report, name)
        for name in (
            "users",
            "relatives",
            "first_contacts_users",
            "first_contacts_relatives",
            "professionals",
            "public_workers",
            "volunteers",
        )
    }
    assert figures == {
        "users": 122,
        "relatives": 93,
        "first_contacts_users": 210,
        "first_contacts_relatives": 91,
        "professionals": 3,
        "public_workers": 1,
        "volunteers": 4,
    }
    assert kranj_report.status == AnnualReport.Status.PUBLISHED
    assert kranj_report.programme.name == KRANJ_PROGRAMME
    assert [(f.source, f.share_percent, f.amount) for f in kranj_report.funding.all()] == [
        ("Mestna občina Kranj", Decimal("35.00"), None)
    ]
    assert list(kranj_report.municipalities.values_list("slug", flat=True)) == ["kranj"]


def test_the_novus_social_activation_project_has_the_seeds_dates_and_indicators(demo):
    project = Project.objects.get(association__slug="novus", name="AS-Aktiviraj Se!")
    assert (project.start_date, project.end_date) == (
        datetime.date(2019, 9, 23),
        datetime.date(2022, 9, 30),
    )
    assert [
        (i.kind, i.unit, i.planned, i.achieved, i.achievement_percent)
        for i in project.indicators.order_by("position")
    ] == [
        ("output", "count", Decimal("60.00"), Decimal("62.00"), Decimal("103.33")),
        ("result", "percent", Decimal("25.00"), Decimal("40.32"), Decimal("161.28")),
    ]


def test_the_velenje_report_links_the_budget_item_that_realised_30383_79(demo):
    report = AnnualReport.objects.get(association__slug="las-velenje", year=2024)
    items = list(report.budget_items.all())
    assert [item.name for item in items] == ["LAS – Program za boj proti drogi"]
    realisation = item_realisation(items[0])
    assert realisation.total == Decimal("30383.79")
    assert realisation.reallocated_out == Decimal("4500.00")
    assert report.indicators.count() == 11
    assert report.signatories.count() == 2


def test_loading_the_demo_twice_duplicates_nothing(demo, settings):
    def counts():
        return {
            model.__name__: model.objects.count()
            for model in (
                AnnualReport,
                Indicator,
                ReportSection,
                ReportFunding,
                Project,
                CouncilSubmission,
                MunicipalBudgetItem,
            )
        }

    before = counts()
    assert before["AnnualReport"] == 3 and before["CouncilSubmission"] == 1
    settings.DEBUG = True
    call_command("load_demo", stdout=io.StringIO())
    assert counts() == before

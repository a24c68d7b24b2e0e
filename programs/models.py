"""Associations (društva), their programmes, and the institutions that fund them."""

import re
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from funding.models import (
    FIRST_YEAR,
    LAST_YEAR,
    AtLeast,
    AtMost,
    decimal_sum,
    money,
    refuse_end_before_start,
)

# Slovenian business register numbers (matična številka) have 7 or 10 digits; tax numbers
# (davčna številka) have 8 digits and never start with 0. Digits are 0–9: \d would also take
# other scripts' digits ("١٢٣٤٥٦٧").
registration_number_validator = RegexValidator(
    r"^([0-9]{7}|[0-9]{10})$",
    _("A registration number has 7 or 10 digits."),
    code="bad_registration",
)
tax_number_validator = RegexValidator(
    r"^[1-9][0-9]{7}$", _("A tax number has 8 digits and does not start with 0."), code="bad_tax"
)


class Institution(models.Model):
    """A ministry, fund or public body that funds or partners programmes (e.g. MDDSZEM, FIHO)."""

    short_name = models.CharField(_("abbreviation"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=300)
    history = HistoricalRecords()

    class Meta:
        ordering = ["short_name"]
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")

    def __str__(self):
        return self.short_name


class Association(models.Model):
    """An association (NGO) whose programmes municipalities co-fund."""

    class LegalStatus(models.TextChoices):
        NGO_PUBLIC_INTEREST = "ngo_public_interest", _("NGO acting in the public interest")
        HUMANITARIAN_BY_LAW = "humanitarian_by_law", _("humanitarian organisation by law")
        HUMANITARIAN = "humanitarian", _("humanitarian organisation")
        OTHER = "other", _("other")

    name = models.CharField(_("full name"), max_length=300, unique=True)
    short_name = models.CharField(_("short name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    legal_status = models.CharField(
        _("legal status"), max_length=30, choices=LegalStatus.choices, default=LegalStatus.OTHER
    )
    public_interest_field = models.CharField(
        _("field of public interest"), max_length=120, blank=True
    )
    status_granted_on = models.DateField(_("status granted on"), null=True, blank=True)
    status_basis = models.CharField(
        _("basis of the status"),
        max_length=300,
        blank=True,
        help_text=_("The decision or the law that grants the status."),
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    registration_number = models.CharField(
        _("registration number"),
        max_length=10,
        blank=True,
        validators=[registration_number_validator],
    )
    tax_number = models.CharField(
        _("tax number"), max_length=8, blank=True, validators=[tax_number_validator]
    )
    presentation = models.TextField(
        _("presentation"),
        blank=True,
        help_text=_("The association's presentation in a strategy's annex (section C.2)."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["short_name"]
        verbose_name = _("association")
        verbose_name_plural = _("associations")

    def __str__(self):
        return self.short_name


class Programme(models.Model):
    """A programme an association runs, e.g. a verified public social-care programme."""

    class Kind(models.TextChoices):
        VERIFIED = "verified", _("verified public social-care programme")
        DEVELOPMENT = "development", _("development social-care programme")
        OTHER = "other", _("other programme")

    association = models.ForeignKey(
        Association,
        verbose_name=_("association"),
        on_delete=models.CASCADE,
        related_name="programmes",
    )
    name = models.CharField(_("name"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    verified_until = models.DateField(_("verification valid until"), null=True, blank=True)
    ministry_funding_period = models.CharField(
        _("ministry co-funding period"), max_length=20, blank=True
    )
    target_groups = models.TextField(_("target groups"), blank=True)
    locations = models.CharField(_("locations"), max_length=300, blank=True)
    other_funders = models.ManyToManyField(
        Institution, verbose_name=_("other funders"), related_name="programmes", blank=True
    )
    start_year = models.PositiveSmallIntegerField(
        _("runs since (year)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(FIRST_YEAR), MaxValueValidator(LAST_YEAR)],
    )
    end_year = models.PositiveSmallIntegerField(
        _("runs until (year)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(FIRST_YEAR), MaxValueValidator(LAST_YEAR)],
        help_text=_("Empty while the programme runs on."),
    )
    cofunded_by_strategy = models.BooleanField(
        _("co-funded under the strategy"),
        default=False,
        help_text=_("The municipalities co-fund this programme under the strategy."),
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    # The funders (a many-to-many field) are not part of the history.
    history = HistoricalRecords()

    class Meta:
        ordering = ["association", "position", "id"]
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        constraints = [
            models.UniqueConstraint(
                fields=["association", "name"],
                name="one_programme_name_per_association",
                violation_error_message=_("The association already has a programme of this name."),
            ),
            models.CheckConstraint(
                condition=models.Q(start_year__isnull=True)
                | models.Q(end_year__isnull=True)
                | models.Q(start_year__lte=models.F("end_year")),
                name="programme_starts_before_it_ends",
                violation_error_message=_("A programme cannot end before it starts."),
            ),
        ]

    def __str__(self):
        return self.name

    def covers(self, year: int) -> bool:
        """Whether the programme runs in the year (an open end runs on)."""
        return (self.start_year is None or self.start_year <= year) and (
            self.end_year is None or year <= self.end_year
        )


def _count_field(verbose_name, help_text=""):
    """A head count that may be unknown: the source states it or the field stays empty."""
    return models.PositiveIntegerField(verbose_name, null=True, blank=True, help_text=help_text)


class Project(models.Model):
    """A time-limited project with a lead partner, partners and funders.

    E.g. NOVUS's social activation project "AS-Aktiviraj Se!", 23. 9. 2019–30. 9. 2022.
    """

    association = models.ForeignKey(
        Association,
        verbose_name=_("reporting association"),
        on_delete=models.CASCADE,
        related_name="projects",
    )
    name = models.CharField(_("name"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"))
    lead_partner = models.ForeignKey(
        Institution,
        verbose_name=_("lead partner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="led_projects",
    )
    partners = models.ManyToManyField(
        Institution, verbose_name=_("partners"), related_name="partner_projects", blank=True
    )
    funders = models.ManyToManyField(
        Institution, verbose_name=_("funders"), related_name="funded_projects", blank=True
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["association", "position", "start_date", "id"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        constraints = [
            models.UniqueConstraint(
                fields=["association", "name"],
                name="one_project_name_per_association",
                violation_error_message=_("The association already has a project of this name."),
            ),
            models.CheckConstraint(
                condition=models.Q(start_date__lte=models.F("end_date")),
                name="project_starts_before_it_ends",
                violation_error_message=_("A project cannot end before it starts."),
            ),
        ]

    def __str__(self):
        return self.name

    def covers(self, year: int) -> bool:
        """Whether the project runs at some time in the year."""
        return self.start_date.year <= year <= self.end_date.year


class AnnualReport(models.Model):
    """An association's (or one programme's) report on a year: narrative, people, staff, money.

    Reports go from draft to submitted to published. Council members see published reports
    only; drafts and submitted reports stay with the roles that write them. A published
    report is the one councils read, so it no longer changes.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted")
        PUBLISHED = "published", _("published")

    association = models.ForeignKey(
        Association,
        verbose_name=_("association"),
        on_delete=models.PROTECT,
        related_name="annual_reports",
    )
    programme = models.ForeignKey(
        Programme,
        verbose_name=_("programme"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="annual_reports",
        help_text=_("Empty when the report covers the association's whole work."),
    )
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(FIRST_YEAR), MaxValueValidator(LAST_YEAR)]
    )
    title = models.CharField(_("title"), max_length=300)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    municipalities = models.ManyToManyField(
        "funding.Municipality",
        verbose_name=_("reported to municipalities"),
        related_name="annual_reports",
        help_text=_("Their officers and council members see the report once it is published."),
    )
    budget_items = models.ManyToManyField(
        "funding.MunicipalBudgetItem",
        verbose_name=_("budget items realised"),
        related_name="annual_reports",
        blank=True,
        help_text=_("Their realisation tables become part of the report."),
    )
    projects = models.ManyToManyField(
        Project, verbose_name=_("projects"), related_name="annual_reports", blank=True
    )
    number = models.CharField(_("document number"), max_length=60, blank=True)
    date = models.DateField(_("date of the document"), null=True, blank=True)
    users = _count_field(_("users"))
    users_women = _count_field(_("of them women"))
    users_men = _count_field(_("of them men"))
    relatives = _count_field(_("relatives"), _("Parents, partners and other family members."))
    first_contacts_users = _count_field(_("first contacts with users"))
    first_contacts_relatives = _count_field(_("first contacts with relatives"))
    professionals = _count_field(_("professional staff"))
    public_workers = _count_field(_("public-works staff"))
    volunteers = _count_field(_("volunteers"))
    events = _count_field(_("meetings or events"))
    prepared_by = models.TextField(
        _("prepared by"), blank=True, help_text=_("Name and title, one per line.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-year", "association", "title"]
        verbose_name = _("annual report")
        verbose_name_plural = _("annual reports")
        constraints = [
            models.UniqueConstraint(
                fields=["association", "programme", "year"],
                name="one_report_per_programme_and_year",
                violation_error_message=_("The programme already has a report for this year."),
            ),
            models.UniqueConstraint(
                fields=["association", "year"],
                condition=models.Q(programme__isnull=True),
                name="one_association_report_per_year",
                violation_error_message=_("The association already has a report for this year."),
            ),
            *[
                models.CheckConstraint(
                    condition=models.Q(**{f"{name}__isnull": True})
                    | models.Q(**{f"{name}__gte": 0}),
                    name=f"report_{name}_not_negative",
                )
                for name in ("users", "relatives", "volunteers", "events")
            ],
        ]

    def __str__(self):
        return f"{self.title} ({self.year})"

    def clean(self):
        errors = {}
        if self.programme_id and self.association_id:
            programme = self.programme
            if programme.association_id != self.association_id:
                errors["programme"] = ValidationError(
                    _(
                        "The programme “%(programme)s” belongs to %(owner)s, "
                        "not to %(association)s."
                    ),
                    code="other_association",
                    params={
                        "programme": programme.name,
                        "owner": programme.association,
                        "association": self.association,
                    },
                )
            elif self.year is not None and not programme.covers(self.year):
                errors["year"] = ValidationError(
                    _(
                        "The programme “%(programme)s” runs %(period)s; a report for %(year)s "
                        "lies outside that period."
                    ),
                    code="outside_programme_period",
                    params={
                        "programme": programme.name,
                        "period": programme_period(programme),
                        "year": self.year,
                    },
                )
        if self.users is not None:
            by_sex = (self.users_women or 0) + (self.users_men or 0)
            if by_sex > self.users:
                errors["users_women"] = ValidationError(
                    _(
                        "Women and men together (%(by_sex)s) are more than the %(users)s users "
                        "reported."
                    ),
                    code="more_by_sex_than_users",
                    params={"by_sex": by_sex, "users": self.users},
                )
        if errors:
            raise ValidationError(errors)

    @property
    def is_published(self) -> bool:
        """Published reports are read by councils and no longer change."""
        return self.status == self.Status.PUBLISHED


def programme_period(programme: Programme) -> str:
    """A programme's years as a reader writes them: "1993–2004", "since 1993"."""
    if programme.start_year and programme.end_year:
        return f"{programme.start_year}–{programme.end_year}"
    if programme.start_year:
        return str(_("since %(year)s") % {"year": programme.start_year})
    if programme.end_year:
        return str(_("until %(year)s") % {"year": programme.end_year})
    return str(_("without a set period"))


class ReportSection(models.Model):
    """A section of a report's narrative: a heading (optional) and its text."""

    report = models.ForeignKey(
        AnnualReport, verbose_name=_("report"), on_delete=models.CASCADE, related_name="sections"
    )
    heading = models.CharField(_("heading"), max_length=200, blank=True)
    body = models.TextField(_("text"), help_text=_("An empty line starts a new paragraph."))
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["report", "position", "id"]
        verbose_name = _("narrative section")
        verbose_name_plural = _("narrative sections")

    def __str__(self):
        return self.heading or self.body[:60]


class ReportFunding(models.Model):
    """Money (or a share of the programme's cost) a report states it received from one source."""

    report = models.ForeignKey(
        AnnualReport, verbose_name=_("report"), on_delete=models.CASCADE, related_name="funding"
    )
    source = models.CharField(_("source"), max_length=200)
    amount = models.DecimalField(
        _("amount (EUR)"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[AtLeast(Decimal("0.00"))],
    )
    share_percent = models.DecimalField(
        _("share of the programme (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[AtLeast(Decimal("0.01")), AtMost(Decimal("100.00"))],
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["report", "position", "id"]
        verbose_name = _("funding source")
        verbose_name_plural = _("funding by source")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True) | models.Q(amount__gte=0),
                name="report_funding_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(share_percent__isnull=True)
                | (models.Q(share_percent__gt=0) & models.Q(share_percent__lte=100)),
                name="report_funding_share_between_0_and_100",
            ),
        ]

    def __str__(self):
        return self.source

    def clean(self):
        if self.amount is None and self.share_percent is None:
            raise ValidationError(
                _("State the amount, the share, or both, for “%(source)s”."),
                code="no_amount_nor_share",
                params={"source": self.source},
            )


class Indicator(models.Model):
    """A planned and achieved value the report measures (kazalnik).

    Output indicators (učinek) count what was done; result indicators (rezultat) measure what
    changed. Achievement is achieved ÷ planned, in percent.
    """

    class Kind(models.TextChoices):
        OUTPUT = "output", _("output")
        RESULT = "result", _("result")

    class Unit(models.TextChoices):
        COUNT = "count", _("count")
        PERCENT = "percent", "%"
        EUR = "eur", "EUR"
        HOURS = "hours", _("hours")

    # A share above 100 % of a group is not a share: it is a typo (40,32 typed as 4032).
    PERCENT_BOUND = Decimal("100.00")

    report = models.ForeignKey(
        AnnualReport,
        verbose_name=_("report"),
        on_delete=models.CASCADE,
        related_name="indicators",
    )
    project = models.ForeignKey(
        Project,
        verbose_name=_("project"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="indicators",
    )
    name = models.CharField(_("name"), max_length=400)
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices, default=Kind.OUTPUT)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.COUNT)
    planned = models.DecimalField(
        _("planned"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[AtLeast(Decimal("0.00"))],
        help_text=_("Empty when the source states no target."),
    )
    achieved = models.DecimalField(
        _("achieved"),
        max_digits=14,
        decimal_places=2,
        validators=[AtLeast(Decimal("0.00"))],
    )
    achieved_by_association = models.DecimalField(
        _("of which by the association"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[AtLeast(Decimal("0.00"))],
        help_text=_("For a partnership's indicator: the reporting association's part."),
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["report", "position", "id"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(achieved__gte=0), name="indicator_achieved_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(planned__isnull=True) | models.Q(planned__gte=0),
                name="indicator_planned_not_negative",
            ),
            models.CheckConstraint(
                condition=~models.Q(unit="percent")
                | (
                    models.Q(achieved__lte=100)
                    & (models.Q(planned__isnull=True) | models.Q(planned__lte=100))
                ),
                name="indicator_percent_at_most_100",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.unit == self.Unit.PERCENT:
            for name in ("planned", "achieved"):
                value = getattr(self, name)
                if value is not None and value > self.PERCENT_BOUND:
                    errors[name] = ValidationError(
                        _(
                            "%(value)s %% is more than 100 %%: a share cannot exceed the whole "
                            "group. Was a decimal comma lost?"
                        ),
                        code="percent_above_bound",
                        params={"value": money(value)},
                    )
        part = self.achieved_by_association
        if part is not None and self.achieved is not None and part > self.achieved:
            errors["achieved_by_association"] = ValidationError(
                _("The association's part (%(part)s) is more than the whole (%(whole)s)."),
                code="part_above_whole",
                params={"part": money(part), "whole": money(self.achieved)},
            )
        if self.project_id and self.report_id:
            project, report = self.project, self.report
            if project.association_id != report.association_id:
                errors["project"] = ValidationError(
                    _("The project “%(project)s” is not %(association)s's."),
                    code="other_association",
                    params={"project": project.name, "association": report.association},
                )
            elif not project.covers(report.year):
                errors["project"] = ValidationError(
                    _(
                        "The project “%(project)s” runs %(start)s–%(end)s; it has no "
                        "results in %(year)s."
                    ),
                    code="outside_project_period",
                    params={
                        "project": project.name,
                        "start": date_format(project.start_date, "SHORT_DATE_FORMAT"),
                        "end": date_format(project.end_date, "SHORT_DATE_FORMAT"),
                        "year": report.year,
                    },
                )
        if errors:
            raise ValidationError(errors)

    @property
    def unit_suffix(self) -> str:
        """What follows a value of the indicator: nothing for a count, "%", "EUR" or "h"."""
        return {"count": "", "percent": "%", "eur": "EUR", "hours": "h"}[self.unit]

    @property
    def achievement_percent(self) -> Decimal | None:
        """Achieved as a percentage of planned, to two decimals half-up; None without a target."""
        if not self.planned:
            return None
        return (self.achieved * 100 / self.planned).quantize(Decimal("0.01"), ROUND_HALF_UP)


class Signatory(models.Model):
    """A person who signs a document: name with degree, and function (e.g. ŽUPAN)."""

    name = models.CharField(_("name and degree"), max_length=200)
    function = models.CharField(_("function"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self):
        return self.name


class ReportSignatory(Signatory):
    report = models.ForeignKey(
        AnnualReport, verbose_name=_("report"), on_delete=models.CASCADE, related_name="signatories"
    )

    class Meta(Signatory.Meta):
        verbose_name = _("signatory")
        verbose_name_plural = _("signatories")


class CouncilSubmission(models.Model):
    """Material for a council session (gradivo za sejo) presenting a report to one council.

    Shaped like Kranj's 2004 submission: the council, the subject (ZADEVA), the body, the
    proposed resolution (SKLEP), who prepared it, the signatories, number and date. Every
    text is editable; ``programs.services.council_submission_create`` fills it in from the
    report.
    """

    report = models.ForeignKey(
        AnnualReport,
        verbose_name=_("report"),
        on_delete=models.CASCADE,
        related_name="council_submissions",
    )
    municipality = models.ForeignKey(
        "funding.Municipality",
        verbose_name=_("municipality"),
        on_delete=models.PROTECT,
        related_name="council_submissions",
    )
    council = models.CharField(
        _("council"), max_length=200, help_text=_("As addressed, e.g. Svet Mestne občine Kranj.")
    )
    subject = models.CharField(_("subject (ZADEVA)"), max_length=400)
    body = models.TextField(_("body"), help_text=_("An empty line starts a new paragraph."))
    include_figures = models.BooleanField(
        _("include the key figures"),
        default=True,
        help_text=_("A table of people reached, staff and funding from the report's data."),
    )
    proposal = models.CharField(
        _("proposal"),
        max_length=300,
        help_text=_(
            "The sentence before the resolution, e.g. “… predlagamo, da sprejme naslednji:”"
        ),
    )
    resolution = models.TextField(_("proposed resolution (SKLEP)"))
    prepared_by = models.TextField(_("prepared by"), blank=True)
    number = models.CharField(_("number"), max_length=60, blank=True)
    date = models.DateField(_("date"), null=True, blank=True)
    attachments = models.TextField(_("attachments"), blank=True, help_text=_("One per line."))

    class Meta:
        ordering = ["report", "municipality"]
        verbose_name = _("council submission")
        verbose_name_plural = _("council submissions")
        constraints = [
            models.UniqueConstraint(
                fields=["report", "municipality"],
                name="one_submission_per_report_and_municipality",
                violation_error_message=_(
                    "This report already has a submission for this municipality's council."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.council}: {self.subject}"

    def clean(self):
        if not (self.report_id and self.municipality_id):
            return
        if not self.report.municipalities.filter(pk=self.municipality_id).exists():
            raise ValidationError(
                {
                    "municipality": ValidationError(
                        _("The report “%(report)s” is not reported to %(municipality)s."),
                        code="not_reported_to",
                        params={"report": self.report.title, "municipality": self.municipality},
                    )
                }
            )


class SubmissionSignatory(Signatory):
    submission = models.ForeignKey(
        CouncilSubmission,
        verbose_name=_("council submission"),
        on_delete=models.CASCADE,
        related_name="signatories",
    )

    class Meta(Signatory.Meta):
        verbose_name = _("signatory")
        verbose_name_plural = _("signatories")


class ActionPlan(models.Model):
    """An action plan (akcijski načrt): objectives and activities over half-year periods.

    Plans of the shape of the national action plan on illicit drugs 2019–2020: organised by
    the chapters of the strategy they implement, each objective (konkretni cilj) carried out
    by activities (izvedbene aktivnosti) that run in some half-years of the plan's period.
    """

    title = models.CharField(_("title"), max_length=300)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    start_year = models.PositiveSmallIntegerField(
        _("first year"), validators=[AtLeast(FIRST_YEAR), AtMost(LAST_YEAR)]
    )
    end_year = models.PositiveSmallIntegerField(
        _("last year"), validators=[AtLeast(FIRST_YEAR), AtMost(LAST_YEAR)]
    )
    issuer = models.CharField(
        _("issuing body"), max_length=300, help_text=_('E.g. "Vlada Republike Slovenije".')
    )
    introduction = models.TextField(_("introduction"), blank=True)
    stated_total = models.DecimalField(
        _("stated annual total (EUR)"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[AtLeast(Decimal("0.00"))],
        help_text=_("The total the plan's text states; the product checks it against the sum."),
    )

    class Meta:
        ordering = ["-start_year", "title"]
        verbose_name = _("action plan")
        verbose_name_plural = _("action plans")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_year__lte=models.F("end_year")),
                name="action_plan_start_year_not_after_end_year",
                violation_error_message=_("The first year must not be after the last year."),
            ),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        refuse_end_before_start(self.start_year, self.end_year)

    @property
    def periods(self) -> list[str]:
        """The plan's half-years, e.g. ["2019-1", "2019-2", "2020-1", "2020-2"]."""
        return [
            f"{year}-{half}"
            for year in range(self.start_year, self.end_year + 1)
            for half in (1, 2)
        ]

    @property
    def period_label(self) -> str:
        """The plan's period as the documents write it: "2019–2020"."""
        if self.start_year == self.end_year:
            return str(self.start_year)
        return f"{self.start_year}–{self.end_year}"

    def funding_total(self) -> Decimal:
        """The sum of the funders' annual amounts, added up as Decimals."""
        return decimal_sum(row.amount for row in self.funding.all())

    def funding_difference(self) -> Decimal | None:
        """Computed total minus the stated total; None when the plan states no total."""
        if self.stated_total is None:
            return None
        return self.funding_total() - self.stated_total

    def progress_summary(self) -> dict[str, int]:
        """How many activity half-years stand at each status, and ``total``.

        Every half-year of every activity counts once: its recorded status, or "planned"
        while nothing is recorded. Progress recorded for a half-year outside the activity's
        own (a late activity still running) counts too.
        """
        summary = dict.fromkeys(ActivityProgress.Status.values, 0)
        recorded = {
            (progress.activity_id, progress.period): progress.status
            for progress in ActivityProgress.objects.filter(activity__objective__chapter__plan=self)
        }
        for activity in Activity.objects.filter(objective__chapter__plan=self):
            for period in activity.period_list:
                status = recorded.pop((activity.pk, period), ActivityProgress.Status.PLANNED)
                summary[status] += 1
        for status in recorded.values():
            summary[status] += 1
        summary["total"] = sum(summary.values())
        return summary


class PlanChapter(models.Model):
    """A chapter of the strategy a plan is organised by ("Koordinacija, financiranje")."""

    plan = models.ForeignKey(
        ActionPlan, verbose_name=_("action plan"), on_delete=models.CASCADE, related_name="chapters"
    )
    title = models.CharField(_("title"), max_length=200)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["plan", "position", "id"]
        verbose_name = _("chapter")
        verbose_name_plural = _("chapters")
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "title"],
                name="one_chapter_title_per_plan",
                violation_error_message=_("The plan already has a chapter of this title."),
            ),
        ]

    def __str__(self):
        return self.title


class Objective(models.Model):
    """A concrete objective (konkretni cilj) of a chapter."""

    chapter = models.ForeignKey(
        PlanChapter, verbose_name=_("chapter"), on_delete=models.CASCADE, related_name="objectives"
    )
    text = models.TextField(_("objective"))
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["chapter", "position", "id"]
        verbose_name = _("objective")
        verbose_name_plural = _("objectives")

    def __str__(self):
        return self.text[:80]


class Activity(models.Model):
    """An implementing activity (izvedbena aktivnost) with its half-years and expected results.

    ``periods`` holds the half-years it runs in as codes "2019-1", "2019-2", … separated by
    spaces; they must lie in the plan's period (the X marks of the seed's table).
    """

    objective = models.ForeignKey(
        Objective, verbose_name=_("objective"), on_delete=models.CASCADE, related_name="activities"
    )
    text = models.TextField(_("activity"))
    periods = models.CharField(
        _("half-years"),
        max_length=200,
        help_text=_('The half-years it runs in, e.g. "2019-2 2020-1".'),
    )
    expected_results = models.TextField(_("expected results"), blank=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["objective", "position", "id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")

    def __str__(self):
        return self.text[:80]

    def clean(self):
        plan = self.objective.chapter.plan if self.objective_id else None
        if plan is not None and self.periods:
            try:
                self.periods = " ".join(parse_periods(self.periods, plan=plan))
            except ValidationError as error:
                raise ValidationError({"periods": error}) from None

    @property
    def period_list(self) -> list[str]:
        """The half-year codes as a list, in the order written."""
        return self.periods.split()

    @property
    def plan(self) -> "ActionPlan":
        """The action plan the activity belongs to."""
        return self.objective.chapter.plan

    @property
    def lead(self) -> Institution | None:
        """The lead institution (nosilec), or None while none is chosen."""
        return next((r.institution for r in self.responsible.all() if r.is_lead), None)

    @property
    def partners(self) -> list[Institution]:
        """The partner institutions, in their order."""
        return [r.institution for r in self.responsible.all() if not r.is_lead]


class ActivityInstitution(models.Model):
    """An institution responsible for an activity: the lead (bold in the seed) or a partner."""

    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="responsible"
    )
    institution = models.ForeignKey(
        Institution,
        verbose_name=_("institution"),
        on_delete=models.PROTECT,
        related_name="activity_roles",
    )
    is_lead = models.BooleanField(_("lead"), default=False)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["activity", "-is_lead", "position", "id"]
        verbose_name = _("responsible institution")
        verbose_name_plural = _("responsible institutions")
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "institution"],
                name="one_role_per_activity_and_institution",
                violation_error_message=_("This institution is already responsible for it."),
            ),
            models.UniqueConstraint(
                fields=["activity"],
                condition=models.Q(is_lead=True),
                name="one_lead_per_activity",
                violation_error_message=_("An activity has one lead institution."),
            ),
        ]

    def __str__(self):
        return str(self.institution)


class PlanFunding(models.Model):
    """A funder's annual amount for a plan (e.g. MDDSZEM 3.888.886,00 EUR)."""

    plan = models.ForeignKey(
        ActionPlan, verbose_name=_("action plan"), on_delete=models.CASCADE, related_name="funding"
    )
    funder = models.ForeignKey(
        Institution, verbose_name=_("funder"), on_delete=models.PROTECT, related_name="plan_funding"
    )
    purpose = models.CharField(_("purpose"), max_length=300, blank=True)
    amount = models.DecimalField(
        _("annual amount (EUR)"),
        max_digits=14,
        decimal_places=2,
        validators=[AtLeast(Decimal("0.00"))],
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["plan", "position", "id"]
        verbose_name = _("funding of the plan")
        verbose_name_plural = _("funding of the plan")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0),
                name="plan_funding_amount_not_negative",
                violation_error_message=_("The amount must not be negative."),
            ),
        ]

    def __str__(self):
        return f"{self.funder}: {money(self.amount)}"


class ActivityProgress(models.Model):
    """How an activity stands in one half-year: planned, in progress, done or late, and a note."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        IN_PROGRESS = "in_progress", _("in progress")
        DONE = "done", _("done")
        LATE = "late", _("late")

    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="progress"
    )
    period = models.CharField(_("half-year"), max_length=6, help_text=_('E.g. "2019-2".'))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PLANNED
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["activity", "period"]
        verbose_name = _("progress")
        verbose_name_plural = _("progress")
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "period"],
                name="one_progress_per_activity_and_half_year",
                violation_error_message=_("This half-year already has its progress."),
            ),
        ]

    def __str__(self):
        return f"{self.period}: {self.get_status_display()}"

    def clean(self):
        """Refuse a half-year outside the plan's period, or "planned" outside the activity's.

        A late activity may be recorded as still running after its own half-years.
        """
        activity = getattr(self, "activity", None)  # unset while the activity form is invalid
        if activity is None or not activity.objective_id or not self.period:
            return
        try:
            (period,) = parse_periods(self.period, plan=activity.plan)
        except ValidationError as error:
            raise ValidationError({"period": error}) from None
        except ValueError:
            raise ValidationError(
                {
                    "period": ValidationError(
                        _("Give one half-year, such as 2019-2, not “%(value)s”."),
                        code="one_period",
                        params={"value": self.period},
                    )
                }
            ) from None
        self.period = period
        if period not in activity.period_list and self.status == self.Status.PLANNED:
            raise ValidationError(
                {
                    "status": ValidationError(
                        _(
                            "The activity does not run in %(period)s (its half-years are "
                            "%(periods)s), so it cannot be planned then; record it as late, "
                            "in progress or done."
                        ),
                        code="not_planned_then",
                        params={"period": period, "periods": activity.periods},
                    )
                }
            )


# The year in the digits 0–9 (\d would take "٢٠١٩" too).
PERIOD_CODE = re.compile(r"([0-9]{4})-([12])")


def parse_periods(text: str, *, plan: ActionPlan) -> list[str]:
    """Half-year codes ("2019-2 2020-1", also separated by commas) in the plan's order.

    Each must be well formed, lie in the plan's period and appear once; a ValidationError
    lists every code that does not, quoting it.
    """
    codes = text.replace(",", " ").replace(";", " ").split()
    allowed = plan.periods
    errors, seen = [], []
    for code in codes:
        match = PERIOD_CODE.fullmatch(code)
        if match is None:
            errors.append(
                ValidationError(
                    _("“%(value)s” is not a half-year; write the year and 1 or 2, as 2019-2."),
                    code="bad_period",
                    params={"value": code},
                )
            )
        elif code not in allowed:
            errors.append(
                ValidationError(
                    _("%(value)s is not in the plan's period %(period)s."),
                    code="period_outside_plan",
                    params={"value": code, "period": plan.period_label},
                )
            )
        elif code in seen:
            errors.append(
                ValidationError(
                    _("%(value)s is given twice."), code="period_twice", params={"value": code}
                )
            )
        else:
            seen.append(code)
    if errors:
        raise ValidationError(errors)
    if not seen:
        raise ValidationError(_("Give at least one half-year, such as 2019-2."), code="no_period")
    return sorted(seen, key=allowed.index)


def lead_count_error(count: int, *, activity: str) -> ValidationError | None:
    """The problem when an activity does not have exactly one lead institution, or None."""
    if count == 1:
        return None
    if count == 0:
        return ValidationError(
            _("The activity “%(activity)s” has no lead institution; mark exactly one as lead."),
            code="no_lead",
            params={"activity": activity},
        )
    return ValidationError(
        _("The activity “%(activity)s” has %(count)d lead institutions; mark exactly one as lead."),
        code="several_leads",
        params={"activity": activity, "count": count},
    )

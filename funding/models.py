"""Municipalities, funding strategies, their cost-sharing key, budget lines and items.

A funding strategy (strategija financiranja) binds several municipalities to co-fund a set of
associations for a period of years. Every budget line of the strategy is split between the
municipalities by the strategy's cost-sharing key: shares in percent with two decimals that add
up to exactly 100.00.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.deconstruct import deconstructible
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

ONE_HUNDRED = Decimal("100.00")
MIN_SHARE = Decimal("0.01")
# Years a strategy may cover: wide enough for archives, narrow enough to catch typos like 20025.
FIRST_YEAR, LAST_YEAR = 1990, 2100


def decimal_sum(values) -> Decimal:
    """Add amounts as Decimals in Python.

    SQLite computes SUM() over decimal columns in binary floating point, so money is never
    added up by the database.
    """
    return sum(values, Decimal("0.00"))


def money(value: Decimal) -> str:
    """An amount for a message, in the active language's format (1.234,56 in Slovenian)."""
    return number_format(value, decimal_pos=2, force_grouping=True)


def refuse_end_before_start(start_year: int | None, end_year: int | None) -> None:
    """Raise a ValidationError on ``end_year`` when a period's last year is before its first."""
    if start_year is not None and end_year is not None and start_year > end_year:
        raise ValidationError(
            {
                "end_year": ValidationError(
                    _("The last year %(end)s is before the first year %(start)s."),
                    code="end_before_start",
                    params={"end": end_year, "start": start_year},
                )
            }
        )


def refuse_if_locked(strategy, year: int | None = None) -> None:
    """Raise a ValidationError when the strategy's data may not change now (see lock_reason)."""
    if strategy is None or strategy.pk is None:
        return
    reason = strategy.lock_reason(year=year)
    if reason:
        raise ValidationError(reason, code="strategy_locked")


def key_error(percentages) -> ValidationError | None:
    """The cost-sharing key's rule: its shares add up to exactly 100,00 %.

    The one home of the rule: the strategy page's key, a share saved on its own page or by a
    history revert, the strategy/v1 import, adoption and the tables all ask it. A key without
    shares is not yet a key (a new strategy); the tables say so (``FundingStrategy.key_problem``).
    """
    shares = [share for share in percentages if share is not None]
    total = decimal_sum(shares)
    if shares and total != ONE_HUNDRED:
        return ValidationError(
            _("The shares of the key add up to %(total)s %%, not 100,00 %%."),
            code="key_not_100",
            params={"total": money(total)},
        )
    return None


class SetMember(models.Model):
    """A row of a set that one rule covers as a whole: the key's shares, a line's items, the
    allocations and reallocations of a budget item.

    Saved alone (its own admin page, a history revert, a command), the row's ``clean()`` checks
    the set's rule with the stored rows and itself in place of its stored version. A form set
    or an import that holds the whole set checks the rule once for the set it is about to write
    and marks its rows ``checked_as_a_set``, so that a change of two rows at once is not judged
    one row at a time against the other's old value.
    """

    checked_as_a_set = False

    class Meta:
        abstract = True


class _LocalizedLimit:
    """A limit validator whose message writes the limit and the value as the interface does.

    Django's own validators put ``Decimal("0.00")`` into the message as "0.00"; an officer
    reads "0,00".
    """

    def __call__(self, value):
        cleaned = self.clean(value)
        if self.compare(cleaned, self.limit_value):
            raise ValidationError(
                self.message,
                code=self.code,
                params={
                    "limit_value": number_format(self.limit_value, force_grouping=True),
                    "show_value": cleaned,
                    "value": number_format(value, force_grouping=True),
                },
            )


@deconstructible
class AtLeast(_LocalizedLimit, MinValueValidator):
    """MinValueValidator with the limit in the interface's number format."""


@deconstructible
class AtMost(_LocalizedLimit, MaxValueValidator):
    """MaxValueValidator with the limit in the interface's number format."""


class Municipality(models.Model):
    """A municipality (občina) that co-funds associations."""

    class MayorTitle(models.TextChoices):
        MAYOR = "zupan", _("mayor (m)")
        MAYORESS = "zupanja", _("mayor (f)")

    name = models.CharField(_("official name"), max_length=120, unique=True)
    short_name = models.CharField(_("short name"), max_length=60)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    mayor_name = models.CharField(_("mayor's name"), max_length=120, blank=True)
    mayor_title = models.CharField(
        _("mayor's title"), max_length=10, choices=MayorTitle.choices, blank=True
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    statute_basis = models.CharField(
        _("statute article for council resolutions"),
        max_length=300,
        blank=True,
        help_text=_(
            "The article of the municipality's statute a council resolution cites, e.g. "
            '"16. člena Statuta Občine Komen (Uradni list RS, št. 80/09, 39/14, 39/16)".'
        ),
    )
    # A shared register record: every strategy's council resolution prints it.
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")

    def __str__(self):
        return self.name


class FundingStrategy(models.Model):
    """A multi-year strategy under which municipalities jointly fund associations."""

    class RoundingUnit(models.TextChoices):
        EURO = "1", _("whole euros")
        CENT = "0.01", _("cents")

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    title = models.CharField(_("title"), max_length=500)
    start_year = models.PositiveSmallIntegerField(
        _("first year"),
        validators=[MinValueValidator(FIRST_YEAR), MaxValueValidator(LAST_YEAR)],
    )
    end_year = models.PositiveSmallIntegerField(
        _("last year"),
        validators=[MinValueValidator(FIRST_YEAR), MaxValueValidator(LAST_YEAR)],
    )
    document_date = models.DateField(_("date of the document"), null=True, blank=True)
    lead_municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("lead municipality"),
        on_delete=models.PROTECT,
        related_name="led_strategies",
        null=True,
        blank=True,
    )
    rounding_unit = models.CharField(
        _("rounding unit"),
        max_length=4,
        choices=RoundingUnit.choices,
        default=RoundingUnit.EURO,
        help_text=_("The unit the cost-sharing table is published in."),
    )
    key_source = models.TextField(
        _("source of the cost-sharing key"),
        blank=True,
        help_text=_("The agreement the shares come from, e.g. the agreement of 8 May 2002."),
    )
    funding_rules = models.TextField(_("funding rules"), blank=True)
    introduction = models.TextField(
        _("introduction"), blank=True, help_text=_("Section A of the annex (Uvod).")
    )
    assessment = models.TextField(
        _("assessment and reasons"),
        blank=True,
        help_text=_("Section C.1 of the annex: the state of affairs and the reasons for adoption."),
    )
    resolution_basis = models.TextField(
        _("legal basis of the resolution"),
        blank=True,
        help_text=_(
            "The laws the council resolution (SKLEP) cites before the municipality's statute."
        ),
    )
    version = models.PositiveIntegerField(
        _("version"),
        default=0,
        editable=False,
        help_text=_("Raised by every save, so that a stale form cannot overwrite a newer one."),
    )
    municipalities = models.ManyToManyField(
        Municipality, through="StrategyShare", related_name="strategies", blank=True
    )
    associations = models.ManyToManyField(
        "programs.Association",
        through="StrategyAssociation",
        related_name="strategies",
        blank=True,
    )

    class Meta:
        ordering = ["-start_year", "slug"]
        verbose_name = _("funding strategy")
        verbose_name_plural = _("funding strategies")
        constraints = [
            models.CheckConstraint(
                condition=Q(start_year__lte=models.F("end_year")),
                name="strategy_start_year_not_after_end_year",
                violation_error_message=_("The first year must not be after the last year."),
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if self.pk is not None:
            self.version += 1
        super().save(*args, **kwargs)

    def clean(self):
        refuse_if_locked(self)
        refuse_end_before_start(self.start_year, self.end_year)

    @property
    def years(self) -> range:
        """The years the strategy covers, first to last inclusive."""
        return range(self.start_year, self.end_year + 1)

    @property
    def rounding_unit_decimal(self) -> Decimal:
        """The rounding unit as a Decimal (1 or 0.01)."""
        return Decimal(self.rounding_unit)

    def key_total(self) -> Decimal:
        """The sum of the key's shares; a complete key adds up to exactly 100.00."""
        return decimal_sum(self.shares.values_list("share_percent", flat=True))

    def key_problem(self) -> str | None:
        """Why the strategy's key cannot split a table, or None when it is complete."""
        shares = list(self.shares.values_list("share_percent", flat=True))
        if not shares:
            return _(
                "The strategy %(slug)s has no cost-sharing key yet: enter the municipalities' "
                "shares on the strategy's page."
            ) % {"slug": self.slug}
        error = key_error(shares)
        if error is None:
            return None
        return _(
            "The cost-sharing key of the strategy %(slug)s is not complete: %(problem)s "
            "Correct the shares on the strategy's page."
        ) % {"slug": self.slug, "problem": error.messages[0]}

    def latest_revision(self) -> "StrategyRevision | None":
        """The revision put to the councils last (the strategy itself or an amendment)."""
        return self.revisions.order_by("-number").first()

    def lock_reason(self, *, year: int | None = None) -> str | None:
        """Why the strategy's data may not change now, or None when it may.

        A draft (no revision, or an amendment being drafted) changes freely. A proposal does
        not change while the councils decide on it. A strategy in force changes only through
        an amendment, except the lines of the years after the base year: the adopted strategy
        leaves them to each year's budget assumptions (its funding rule 2), so deriving and
        adjusting them is applying the strategy, not amending it.
        """
        revision = self.latest_revision()
        if revision is None or revision.status == StrategyRevision.Status.DRAFT:
            return None
        if revision.status == StrategyRevision.Status.PROPOSED:
            return _(
                "The strategy %(slug)s was proposed to the councils on %(date)s and cannot "
                "change while they decide; withdraw the proposal to change it."
            ) % {"slug": self.slug, "date": date_format(revision.proposed_on, "SHORT_DATE_FORMAT")}
        if year is not None and year > self.start_year:
            return None
        return _(
            "The strategy %(slug)s is in force since %(date)s as adopted; change it through "
            "an amendment."
        ) % {"slug": self.slug, "date": date_format(revision.in_force_on, "SHORT_DATE_FORMAT")}


class StrategyShare(SetMember):
    """One municipality's share of a strategy's cost-sharing key (delež sofinanciranja)."""

    strategy = models.ForeignKey(
        FundingStrategy, verbose_name=_("strategy"), on_delete=models.CASCADE, related_name="shares"
    )
    municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("municipality"),
        on_delete=models.PROTECT,
        related_name="strategy_shares",
    )
    share_percent = models.DecimalField(
        _("share (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[AtLeast(MIN_SHARE), AtMost(ONE_HUNDRED)],
    )
    position = models.PositiveSmallIntegerField(
        _("column"), default=0, help_text=_("Column order in the cost-sharing table.")
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["strategy", "position", "id"]
        verbose_name = _("share of the cost-sharing key")
        verbose_name_plural = _("cost-sharing key")
        constraints = [
            models.UniqueConstraint(
                fields=["strategy", "municipality"],
                name="one_share_per_strategy_and_municipality",
                violation_error_message=_("This municipality already has a share in the key."),
            ),
            models.CheckConstraint(
                condition=Q(share_percent__gt=0) & Q(share_percent__lte=100),
                name="share_percent_between_0_and_100",
                violation_error_message=_("A share must be more than 0 and at most 100 %."),
            ),
        ]

    def __str__(self):
        return f"{self.municipality}: {number_format(self.share_percent, decimal_pos=2)} %"

    def delete(self, *args, **kwargs):
        if not self.checked_as_a_set and (error := self.deletion_error()) is not None:
            raise error
        return super().delete(*args, **kwargs)

    def clean(self):
        strategy = self.strategy if self.strategy_id else None
        refuse_if_locked(strategy)
        if strategy is None or self.checked_as_a_set or self.share_percent is None:
            return
        others = strategy.shares.exclude(pk=self.pk).values_list("share_percent", flat=True)
        error = key_error([*others, self.share_percent])
        if error is not None:
            raise ValidationError({"share_percent": [error, self.alone_hint()]})

    def deletion_error(self) -> ValidationError | None:
        """Why removing this share alone would break the key, or None."""
        if not self.strategy_id:
            return None
        others = self.strategy.shares.exclude(pk=self.pk)
        error = key_error(others.values_list("share_percent", flat=True))
        return None if error is None else ValidationError([error, self.alone_hint()])

    @staticmethod
    def alone_hint() -> ValidationError:
        return ValidationError(
            _(
                "The shares of a key change together: change them on the strategy's page, "
                "where the key is saved as a whole."
            ),
            code="key_changes_as_a_whole",
        )


class StrategyAssociation(models.Model):
    """An association of special local importance (društvo posebnega lokalnega pomena)."""

    strategy = models.ForeignKey(
        FundingStrategy,
        verbose_name=_("strategy"),
        on_delete=models.CASCADE,
        related_name="strategy_associations",
    )
    association = models.ForeignKey(
        "programs.Association",
        verbose_name=_("association"),
        on_delete=models.PROTECT,
        related_name="strategy_memberships",
    )
    position = models.PositiveSmallIntegerField(
        _("order"), default=0, help_text=_("Order of the association in the strategy's tables.")
    )
    funding_text = models.TextField(
        _("scope of co-funding"),
        blank=True,
        help_text=_("The annex's text on what the municipalities co-fund for this association."),
    )

    class Meta:
        ordering = ["strategy", "position", "id"]
        verbose_name = _("association of the strategy")
        verbose_name_plural = _("associations of the strategy")
        constraints = [
            models.UniqueConstraint(
                fields=["strategy", "association"],
                name="one_membership_per_strategy_and_association",
                violation_error_message=_("This association is already part of the strategy."),
            ),
        ]

    def __str__(self):
        return f"{self.strategy.slug}: {self.association}"

    def clean(self):
        refuse_if_locked(self.strategy if self.strategy_id else None)


class BudgetCategory(models.TextChoices):
    """The cost categories of the strategy's budget lines, in the table's order."""

    STAFF = "staff", _("Staff costs")
    STAFF_MATERIAL = "staff_material", _("Staff material costs")
    PROGRAMME_MATERIAL = "programme_material", _("Programme material costs")
    OTHER = "other", _("Other costs")


# The categories' Slovenian labels as the strategy/v1 exchange format writes them. They are part
# of a published file format, so they do not follow the interface language.
CATEGORY_EXCHANGE_LABELS = {
    BudgetCategory.STAFF: "Stroški zaposlenih",
    BudgetCategory.STAFF_MATERIAL: "Materialni stroški zaposlenih",
    BudgetCategory.PROGRAMME_MATERIAL: "Materialni stroški programa",
    BudgetCategory.OTHER: "Drugi stroški",
}


def category_order() -> models.Case:
    """An expression that sorts lines by category in the table's order, not alphabetically."""
    return models.Case(
        *[
            models.When(category=category, then=index)
            for index, category in enumerate(BudgetCategory)
        ],
        output_field=models.IntegerField(),
    )


def _amount_field(verbose_name):
    return models.DecimalField(
        verbose_name,
        max_digits=14,
        decimal_places=2,
        validators=[AtLeast(Decimal("0.00"))],
    )


class BudgetLine(SetMember):
    """One cost category of one association in one year of a strategy.

    Where the line has items (positions such as "secretary, pay grade 43, 60 %"), its amount is
    the sum of its items.
    """

    strategy = models.ForeignKey(
        FundingStrategy, verbose_name=_("strategy"), on_delete=models.CASCADE, related_name="lines"
    )
    association = models.ForeignKey(
        "programs.Association",
        verbose_name=_("association"),
        on_delete=models.PROTECT,
        related_name="budget_lines",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    category = models.CharField(_("category"), max_length=20, choices=BudgetCategory.choices)
    amount = _amount_field(_("amount (EUR)"))
    note = models.TextField(_("note"), blank=True)
    version = models.PositiveIntegerField(
        _("version"),
        default=0,
        editable=False,
        help_text=_("Raised by every save, so that a stale form cannot overwrite a newer one."),
    )
    # The version is not history: a reverted row takes the current version (simple-history
    # reads excluded fields from the live row), so the revert form is not refused as stale.
    history = HistoricalRecords(excluded_fields=["version"])

    class Meta:
        ordering = ["strategy", "year", "association", "category"]
        verbose_name = _("budget line")
        verbose_name_plural = _("budget lines")
        constraints = [
            models.UniqueConstraint(
                fields=["strategy", "association", "year", "category"],
                name="one_line_per_strategy_association_year_category",
                violation_error_message=_(
                    "This association already has a line of this category in this year."
                ),
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="budget_line_amount_not_negative",
                violation_error_message=_("The amount must not be negative."),
            ),
        ]

    def __str__(self):
        return f"{self.association} {self.year}: {self.get_category_display()}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            self.version += 1
        super().save(*args, **kwargs)

    def clean(self):
        errors = {}
        strategy = self.strategy if self.strategy_id else None
        if strategy and self.year is not None and self.year not in strategy.years:
            errors["year"] = ValidationError(
                _("The year %(year)s lies outside the strategy's period %(start)s–%(end)s."),
                code="year_outside_period",
                params={"year": self.year, "start": strategy.start_year, "end": strategy.end_year},
            )
        if (
            strategy
            and self.association_id
            and strategy.pk
            and not strategy.strategy_associations.filter(
                association_id=self.association_id
            ).exists()
        ):
            errors["association"] = ValidationError(
                _("The association %(association)s is not part of the strategy %(strategy)s."),
                code="association_not_in_strategy",
                params={"association": self.association, "strategy": strategy.slug},
            )
        if strategy:
            reason = strategy.lock_reason(year=self.year)
            if reason:
                errors[NON_FIELD_ERRORS] = ValidationError(reason, code="strategy_locked")
        # On the line's page the items form set holds the line's items and checks them
        # against the amount typed beside them; alone, the stored items must add up to it.
        if self.pk and not self.checked_as_a_set:
            error = self.items_error(self.amount, self.items.values_list("amount", flat=True))
            if error is not None:
                errors["amount"] = error
        if errors:
            raise ValidationError(errors)

    @staticmethod
    def items_error(amount: Decimal | None, item_amounts) -> ValidationError | None:
        """The line's rule: a line with items amounts to exactly their sum.

        The one home of the rule: the line's page with its items, an item saved on its own
        page or by a history revert, the imports of lines and items and the strategy/v1
        import all ask it.
        """
        amounts = [value for value in item_amounts if value is not None]
        if not amounts or amount is None or decimal_sum(amounts) == amount:
            return None
        return ValidationError(
            _("The items add up to %(items)s, but the line's amount is %(amount)s."),
            code="items_do_not_add_up",
            params={"items": money(decimal_sum(amounts)), "amount": money(amount)},
        )

    @property
    def exchange_category(self) -> str:
        """The category's label in the strategy/v1 exchange format."""
        return CATEGORY_EXCHANGE_LABELS[BudgetCategory(self.category)]

    def items_total(self) -> Decimal | None:
        """The sum of the line's items, or None when the line has no items."""
        amounts = list(self.items.values_list("amount", flat=True))
        return decimal_sum(amounts) if amounts else None


class BudgetItem(SetMember):
    """A position within a budget line, e.g. "secretary, pay grade 43, 60 %"."""

    line = models.ForeignKey(
        BudgetLine, verbose_name=_("budget line"), on_delete=models.CASCADE, related_name="items"
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    description = models.CharField(_("description"), max_length=300)
    pay_grade = models.PositiveSmallIntegerField(
        _("pay grade"),
        null=True,
        blank=True,
        # The Slovenian public-sector pay scale has grades 1 to 65.
        validators=[MinValueValidator(1), MaxValueValidator(65)],
    )
    share_percent = models.DecimalField(
        _("share of the salary (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[AtLeast(MIN_SHARE), AtMost(ONE_HUNDRED)],
    )
    amount = _amount_field(_("amount (EUR)"))
    version = models.PositiveIntegerField(_("version"), default=0, editable=False)
    history = HistoricalRecords(excluded_fields=["version"])

    class Meta:
        ordering = ["line", "position", "id"]
        verbose_name = _("budget item")
        verbose_name_plural = _("budget items")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="budget_item_amount_not_negative",
                violation_error_message=_("The amount must not be negative."),
            ),
            models.CheckConstraint(
                condition=Q(pay_grade__isnull=True) | Q(pay_grade__gte=1, pay_grade__lte=65),
                name="budget_item_pay_grade_1_to_65",
                violation_error_message=_("A pay grade lies between 1 and 65."),
            ),
            models.CheckConstraint(
                condition=Q(share_percent__isnull=True)
                | (Q(share_percent__gt=0) & Q(share_percent__lte=100)),
                name="budget_item_share_between_0_and_100",
                violation_error_message=_("A share must be more than 0 and at most 100 %."),
            ),
        ]

    def __str__(self):
        return self.description

    def save(self, *args, **kwargs):
        if self.pk is not None:
            self.version += 1
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if not self.checked_as_a_set and (error := self.deletion_error()) is not None:
            raise error
        return super().delete(*args, **kwargs)

    def clean(self):
        if not self.line_id:
            return
        refuse_if_locked(self.line.strategy, self.line.year)
        if self.checked_as_a_set or self.amount is None:
            return
        others = self.line.items.exclude(pk=self.pk).values_list("amount", flat=True)
        error = BudgetLine.items_error(self.line.amount, [*others, self.amount])
        if error is not None:
            raise ValidationError({"amount": [error, self.alone_hint()]})

    def deletion_error(self) -> ValidationError | None:
        """Why removing this item alone would leave its line not adding up, or None."""
        if not self.line_id:
            return None
        others = self.line.items.exclude(pk=self.pk).values_list("amount", flat=True)
        error = BudgetLine.items_error(self.line.amount, others)
        return None if error is None else ValidationError([error, self.alone_hint()])

    @staticmethod
    def alone_hint() -> ValidationError:
        return ValidationError(
            _(
                "A line and its items change together: change them on the budget line's page, "
                "where the items are saved with the line's amount."
            ),
            code="items_change_with_the_line",
        )


class InKindSupport(models.Model):
    """Support in kind (e.g. free use of premises) that becomes a footnote of the table."""

    strategy = models.ForeignKey(
        FundingStrategy,
        verbose_name=_("strategy"),
        on_delete=models.CASCADE,
        related_name="in_kind_support",
    )
    municipality = models.ForeignKey(
        Municipality, verbose_name=_("municipality"), on_delete=models.PROTECT
    )
    association = models.ForeignKey(
        "programs.Association", verbose_name=_("association"), on_delete=models.PROTECT
    )
    description = models.TextField(
        _("footnote text"),
        help_text=_("As it appears under the table, e.g. free use of premises at an address."),
    )
    address = models.CharField(_("address of the premises"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["strategy", "position", "id"]
        verbose_name = _("in-kind support")
        verbose_name_plural = _("in-kind support")

    def __str__(self):
        return f"{self.municipality.short_name} → {self.association}: {self.address}"

    def clean(self):
        refuse_if_locked(self.strategy if self.strategy_id else None)


class Membership(models.Model):
    """Ties a user to a municipality whose data the user works with."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("municipality"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "municipality"], name="one_membership_per_user_and_municipality"
            ),
        ]

    def __str__(self):
        return f"{self.user} @ {self.municipality}"


class MunicipalBudgetItem(models.Model):
    """A municipality's budget item (proračunska postavka) in one year."""

    municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("municipality"),
        on_delete=models.PROTECT,
        related_name="budget_items",
    )
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(FIRST_YEAR), MaxValueValidator(LAST_YEAR)]
    )
    code = models.CharField(_("code"), max_length=30, blank=True)
    name = models.CharField(_("name"), max_length=300)
    adopted_amount = models.DecimalField(
        _("adopted amount (EUR)"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[AtLeast(Decimal("0.00"))],
        help_text=_("Empty when the source does not state it."),
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["municipality", "year", "code", "name"]
        verbose_name = _("municipal budget item")
        verbose_name_plural = _("municipal budget items")
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "year", "name"],
                name="one_budget_item_name_per_municipality_and_year",
            ),
            models.CheckConstraint(
                condition=Q(adopted_amount__isnull=True) | Q(adopted_amount__gte=0),
                name="budget_item_adopted_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.municipality.short_name}, {self.year})"

    def money_error(self, *, spent=None, moved_out=None, moved_in=None) -> ValidationError | None:
        """The item's money rule: what it spends and moves out stays within what it has.

        What it has is the adopted amount plus the reallocations into it; what it uses is the
        realised allocations plus the reallocations out of it. Each argument is the set of
        amounts about to be written (the stored rows when None), so that the item's page, an
        allocation or a reallocation saved alone, and the allocations import all ask this one
        rule. An item whose adopted amount the source does not state is not checked.
        """
        if self.adopted_amount is None:
            return None
        stored = self.pk is not None

        def total(given, related: str, field: str) -> Decimal:
            if given is not None:
                return decimal_sum(value for value in given if value is not None)
            if not stored:
                return Decimal("0.00")
            return decimal_sum(getattr(self, related).values_list(field, flat=True))

        used = total(spent, "allocations", "realised_amount") + total(
            moved_out, "reallocations_out", "amount"
        )
        moved_in_total = total(moved_in, "reallocations_in", "amount")
        available = self.adopted_amount + moved_in_total
        if used <= available:
            return None
        return ValidationError(
            _(
                "The budget item “%(item)s” would spend and move out %(used)s EUR, more than the "
                "%(available)s EUR it has (adopted %(adopted)s EUR plus %(moved_in)s EUR moved "
                "in). Record a reallocation into it first, or lower the amounts."
            ),
            code="above_available",
            params={
                "item": self.name,
                "used": money(used),
                "available": money(available),
                "adopted": money(self.adopted_amount),
                "moved_in": money(moved_in_total),
            },
        )


class Allocation(SetMember):
    """Money of a budget item given to a programme, association or project, planned and spent."""

    item = models.ForeignKey(
        MunicipalBudgetItem,
        verbose_name=_("budget item"),
        on_delete=models.CASCADE,
        related_name="allocations",
    )
    recipient = models.CharField(_("recipient"), max_length=300)
    programme = models.ForeignKey(
        "programs.Programme",
        verbose_name=_("programme"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    planned_amount = models.DecimalField(
        _("planned (EUR)"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[AtLeast(Decimal("0.00"))],
    )
    realised_amount = _amount_field(_("realised (EUR)"))
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["item", "position", "id"]
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        constraints = [
            models.CheckConstraint(
                condition=Q(realised_amount__gte=0), name="allocation_realised_not_negative"
            ),
        ]

    def __str__(self):
        return self.recipient

    def clean(self):
        item = self.item if self.item_id else None
        if item is None or self.checked_as_a_set or self.realised_amount is None:
            return
        others = item.allocations.exclude(pk=self.pk).values_list("realised_amount", flat=True)
        error = item.money_error(spent=[*others, self.realised_amount])
        if error is not None:
            raise ValidationError({"realised_amount": error})


class Reallocation(SetMember):
    """Money moved from one budget item to another (prerazporeditev)."""

    source = models.ForeignKey(
        MunicipalBudgetItem,
        verbose_name=_("from budget item"),
        on_delete=models.CASCADE,
        related_name="reallocations_out",
    )
    target = models.ForeignKey(
        MunicipalBudgetItem,
        verbose_name=_("to budget item"),
        on_delete=models.PROTECT,
        related_name="reallocations_in",
    )
    amount = _amount_field(_("amount (EUR)"))
    date = models.DateField(_("date"), null=True, blank=True)
    purpose = models.CharField(
        _("purpose"),
        max_length=200,
        blank=True,
        help_text=_("As the realisation table names it, e.g. Preventivni projekti MC Velenje."),
    )
    reason = models.TextField(_("reason"))

    class Meta:
        ordering = ["source", "date", "id"]
        verbose_name = _("reallocation")
        verbose_name_plural = _("reallocations")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="reallocation_amount_positive"),
            models.CheckConstraint(
                condition=~Q(source=models.F("target")), name="reallocation_between_two_items"
            ),
        ]

    def __str__(self):
        return f"{self.source.name} → {self.target.name}: {self.amount}"

    def clean(self):
        """Money moves between two items of one budget, within what the source has."""
        if self.source_id and self.target_id:
            source, target = self.source, self.target
            if (source.municipality_id, source.year) != (target.municipality_id, target.year):
                raise ValidationError(
                    {
                        "target": ValidationError(
                            _(
                                "Money moves only within one budget: “%(source)s” and "
                                "“%(target)s” are not items of the same municipality and year."
                            ),
                            code="other_budget",
                            params={"source": source, "target": target},
                        )
                    }
                )
        if self.amount is None:
            return
        # The source gives the money: checked with its other rows, unless its page checks them
        # all together. The target loses money when an amount moved into it is lowered.
        if self.source_id and not self.checked_as_a_set:
            others = self.source.reallocations_out.exclude(pk=self.pk)
            error = self.source.money_error(
                moved_out=[*others.values_list("amount", flat=True), self.amount]
            )
            if error is not None:
                raise ValidationError({"amount": error})
        if self.target_id:
            others = self.target.reallocations_in.exclude(pk=self.pk)
            error = self.target.money_error(
                moved_in=[*others.values_list("amount", flat=True), self.amount]
            )
            if error is not None:
                raise ValidationError({"amount": error})

    @property
    def reason_label(self) -> str:
        """How a realisation table names the reallocated money."""
        return _("%(target)s (reallocation)") % {"target": self.purpose or self.target.name}


class StatedRealisation(models.Model):
    """The realisation of a budget item as a report states it, to be checked against the data.

    Reports are typed by hand; the product computes every total itself and shows where a
    stated figure disagrees (e.g. Velenje 2024: "25.883,79 EUR + 4.566,00 EUR
    prerazporeditve, skupaj: 30.383,79 EUR", where the reallocation was 4,500.00).
    """

    item = models.OneToOneField(
        MunicipalBudgetItem,
        verbose_name=_("budget item"),
        on_delete=models.CASCADE,
        related_name="stated_realisation",
    )
    spent = models.DecimalField(_("stated spending (EUR)"), max_digits=14, decimal_places=2)
    reallocated = models.DecimalField(
        _("stated reallocations (EUR)"), max_digits=14, decimal_places=2
    )
    total = models.DecimalField(_("stated total (EUR)"), max_digits=14, decimal_places=2)
    source = models.TextField(_("where it is stated"), blank=True)

    class Meta:
        verbose_name = _("stated realisation")
        verbose_name_plural = _("stated realisations")

    def __str__(self):
        return str(self.item)


# Indexation between two years stays within these bounds: a typo such as 20 instead of 2.0
# is caught by the officer's eye, 200 by this rule.
MIN_INDEXATION, MAX_INDEXATION = Decimal("-50.00"), Decimal("100.00")


class IndexationRate(models.Model):
    """How much one category's lines change from the previous year (indeksacija).

    The 2025 rule of the Kras strategy was "material costs +2 % on 2024"; later years follow
    each year's budget assumptions, staff costs the pay-grade assumptions. A year's lines are
    derived from the previous year's by these rates and can then be edited line by line.
    """

    strategy = models.ForeignKey(
        FundingStrategy,
        verbose_name=_("strategy"),
        on_delete=models.CASCADE,
        related_name="indexation_rates",
    )
    year = models.PositiveSmallIntegerField(
        _("year"), help_text=_("The year whose lines the rate derives from the year before.")
    )
    category = models.CharField(_("category"), max_length=20, choices=BudgetCategory.choices)
    percent = models.DecimalField(
        _("change (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[AtLeast(MIN_INDEXATION), AtMost(MAX_INDEXATION)],
    )
    basis = models.CharField(
        _("basis"),
        max_length=300,
        blank=True,
        help_text=_("Where the rate comes from, e.g. the budget assumptions of the year."),
    )

    class Meta:
        ordering = ["strategy", "year", "category"]
        verbose_name = _("indexation rate")
        verbose_name_plural = _("indexation rates")
        constraints = [
            models.UniqueConstraint(
                fields=["strategy", "year", "category"],
                name="one_indexation_rate_per_strategy_year_category",
                violation_error_message=_("This category already has a rate for this year."),
            ),
            models.CheckConstraint(
                condition=Q(percent__gte=MIN_INDEXATION) & Q(percent__lte=MAX_INDEXATION),
                name="indexation_rate_plausible",
                violation_error_message=_("The change must lie between -50 and 100 %."),
            ),
        ]

    def __str__(self):
        return (
            f"{self.year} {self.get_category_display()}: "
            f"{number_format(self.percent, decimal_pos=2)} %"
        )

    def clean(self):
        strategy = self.strategy if self.strategy_id else None
        refuse_if_locked(strategy, self.year)
        if strategy and self.year is not None and self.year not in strategy.years[1:]:
            raise ValidationError(
                {
                    "year": ValidationError(
                        _(
                            "The year %(year)s is not a later year of the strategy "
                            "(%(first)s–%(last)s)."
                        ),
                        code="year_not_derived",
                        params={
                            "year": self.year,
                            "first": strategy.start_year + 1,
                            "last": strategy.end_year,
                        },
                    )
                }
            )


class StrategyRevision(models.Model):
    """One version of a strategy put to the councils: the strategy itself or an amendment.

    Number 1 is the strategy as first proposed; 2, 3, … are amendments (spremembe), each with
    its own adoption by every participating council. A revision takes effect when the last
    council adopts it; it is then frozen: the strategy/v1 document as adopted and the hash of
    its rendered annex are stored and never change again.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        PROPOSED = "proposed", _("proposed to the councils")
        IN_FORCE = "in_force", _("in force")

    strategy = models.ForeignKey(
        FundingStrategy,
        verbose_name=_("strategy"),
        on_delete=models.PROTECT,
        related_name="revisions",
    )
    number = models.PositiveSmallIntegerField(_("number"), default=1)
    reason = models.TextField(
        _("reason"), blank=True, help_text=_("What an amendment changes, and why.")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    proposed_on = models.DateField(_("proposed on"), null=True, blank=True)
    in_force_on = models.DateField(
        _("in force since"),
        null=True,
        blank=True,
        help_text=_("The day the last council adopted it."),
    )
    document = models.TextField(
        _("document as adopted"), blank=True, editable=False, help_text=_("strategy/v1 JSON.")
    )
    document_sha256 = models.CharField(
        _("SHA-256 of the document"), max_length=64, blank=True, editable=False
    )
    annex_sha256 = models.CharField(
        _("SHA-256 of the annex PDF"), max_length=64, blank=True, editable=False
    )
    # The signed annex itself: regenerating it gives the same bytes only while the templates,
    # fonts and WeasyPrint stay the same, so the adopted file is kept, not just its hash.
    annex_pdf = models.BinaryField(_("annex PDF as adopted"), blank=True, editable=False)
    annex_pages = models.PositiveSmallIntegerField(
        _("pages of the annex"), null=True, blank=True, editable=False
    )
    frozen_at = models.DateTimeField(_("frozen at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["strategy", "number"]
        verbose_name = _("strategy revision")
        verbose_name_plural = _("adoption of strategies")
        constraints = [
            models.UniqueConstraint(
                fields=["strategy", "number"],
                name="one_revision_number_per_strategy",
                violation_error_message=_("The strategy already has a revision of this number."),
            ),
            models.UniqueConstraint(
                fields=["strategy"],
                condition=~Q(status="in_force"),
                name="one_open_revision_per_strategy",
                violation_error_message=_(
                    "The strategy already has a revision that is not yet in force."
                ),
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1),
                name="revision_number_from_1",
                violation_error_message=_("Revisions are numbered from 1."),
            ),
        ]

    def __str__(self):
        return f"{self.strategy.slug}: {self.label}"

    def save(self, *args, **kwargs):
        # The adopted version is evidence of what the councils adopted: no code path, admin
        # or shell may change it once stored (only its coming into force writes it).
        if self.pk is not None and _frozen_revision_ids([self.pk]):
            raise ValidationError(
                _("%(revision)s is in force and frozen; it cannot be changed.")
                % {"revision": self},
                code="frozen",
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.pk is not None and _frozen_revision_ids([self.pk]):
            raise ValidationError(
                _("%(revision)s is in force and frozen; it cannot be deleted.")
                % {"revision": self},
                code="frozen",
            )
        return super().delete(*args, **kwargs)

    def clean(self):
        if self.number and self.number > 1 and not self.reason.strip():
            raise ValidationError(
                {"reason": _("An amendment needs a reason: what it changes, and why.")},
                code="reason_missing",
            )

    @property
    def label(self) -> str:
        """The revision as a reader names it: the strategy, or amendment no. N."""
        if self.number == 1:
            return str(_("strategy"))
        return str(_("amendment no. %(number)s") % {"number": self.number - 1})

    @property
    def is_frozen(self) -> bool:
        """Whether the revision is in force and so can no longer change."""
        return self.status == self.Status.IN_FORCE


def _frozen_revision_ids(ids) -> set[int]:
    """Which of the revisions are stored as in force (the database's word, not the object's)."""
    return set(
        StrategyRevision.objects.filter(
            pk__in=ids, status=StrategyRevision.Status.IN_FORCE
        ).values_list("pk", flat=True)
    )


class StrategyAdoption(models.Model):
    """A council's adoption of a strategy revision: date, session and resolution number."""

    revision = models.ForeignKey(
        StrategyRevision,
        verbose_name=_("revision"),
        on_delete=models.PROTECT,
        related_name="adoptions",
    )
    municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("municipality"),
        on_delete=models.PROTECT,
        related_name="adoptions",
    )
    date = models.DateField(_("date of the session"))
    session = models.CharField(_("session"), max_length=120, help_text=_('E.g. "7. redna seja".'))
    resolution_number = models.CharField(
        _("resolution number"), max_length=60, help_text=_('E.g. "410-0012/2024-5".')
    )

    class Meta:
        ordering = ["revision", "date", "id"]
        verbose_name = _("council adoption")
        verbose_name_plural = _("council adoptions")
        constraints = [
            models.UniqueConstraint(
                fields=["revision", "municipality"],
                name="one_adoption_per_revision_and_municipality",
                violation_error_message=_("This council has already adopted this revision."),
            ),
        ]

    def __str__(self):
        return f"{self.municipality}: {self.resolution_number}"

    def save(self, *args, **kwargs):
        if self.revision_id and _frozen_revision_ids([self.revision_id]):
            raise ValidationError(
                _("%(revision)s is in force and frozen; its adoptions cannot change.")
                % {"revision": self.revision},
                code="frozen",
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.revision_id and _frozen_revision_ids([self.revision_id]):
            raise ValidationError(
                _("%(revision)s is in force and frozen; its adoptions cannot change.")
                % {"revision": self.revision},
                code="frozen",
            )
        return super().delete(*args, **kwargs)

    def clean(self):
        # The rules live with the service that records adoptions; the admin form shows them
        # by field before the service runs them again.
        from funding.adoption import adoption_problems

        problems = adoption_problems(self)
        if problems:
            raise ValidationError(problems)

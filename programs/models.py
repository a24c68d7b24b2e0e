"""Associations (društva), their programmes, and the institutions that fund them."""

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# Slovenian business register numbers (matična številka) have 7 or 10 digits; tax numbers
# (davčna številka) have 8 digits and never start with 0.
registration_number_validator = RegexValidator(
    r"^(\d{7}|\d{10})$", _("A registration number has 7 or 10 digits."), code="bad_registration"
)
tax_number_validator = RegexValidator(
    r"^[1-9]\d{7}$", _("A tax number has 8 digits and does not start with 0."), code="bad_tax"
)


class Institution(models.Model):
    """A ministry, fund or public body that funds or partners programmes (e.g. MDDSZEM, FIHO)."""

    short_name = models.CharField(_("abbreviation"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=300)

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
    cofunded_by_strategy = models.BooleanField(
        _("co-funded under the strategy"),
        default=False,
        help_text=_("The municipalities co-fund this programme under the strategy."),
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)

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
        ]

    def __str__(self):
        return self.name

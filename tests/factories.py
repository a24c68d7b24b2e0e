"""factory_boy factories for model tests."""

import datetime
from contextlib import contextmanager
from decimal import Decimal

import factory

from funding.models import (
    BudgetCategory,
    BudgetItem,
    BudgetLine,
    FundingStrategy,
    Municipality,
    StrategyAssociation,
    StrategyShare,
)
from programs.models import AnnualReport, Association, Indicator, Programme, Project


class MunicipalityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Municipality

    short_name = factory.Sequence(lambda n: f"Kraj {n}")
    name = factory.LazyAttribute(lambda m: f"Občina {m.short_name}")
    slug = factory.Sequence(lambda n: f"kraj-{n}")


class AssociationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Association

    short_name = factory.Sequence(lambda n: f"Društvo {n}")
    name = factory.LazyAttribute(lambda a: f"{a.short_name} za vse")
    slug = factory.Sequence(lambda n: f"drustvo-{n}")


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme

    association = factory.SubFactory(AssociationFactory)
    name = factory.Sequence(lambda n: f"Program {n}")


class StrategyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FundingStrategy

    slug = factory.Sequence(lambda n: f"strategija-{n}")
    title = factory.Sequence(lambda n: f"Strategija {n}")
    start_year = 2025
    end_year = 2029


class ShareFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StrategyShare

    strategy = factory.SubFactory(StrategyFactory)
    municipality = factory.SubFactory(MunicipalityFactory)
    share_percent = Decimal("100.00")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StrategyAssociation

    strategy = factory.SubFactory(StrategyFactory)
    association = factory.SubFactory(AssociationFactory)


class BudgetLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BudgetLine

    strategy = factory.SubFactory(StrategyFactory)
    association = factory.SubFactory(AssociationFactory)
    year = 2025
    category = BudgetCategory.STAFF
    amount = Decimal("1000.00")


class BudgetItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BudgetItem

    line = factory.SubFactory(BudgetLineFactory)
    description = factory.Sequence(lambda n: f"delovno mesto {n}")
    amount = Decimal("500.00")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    association = factory.SubFactory(AssociationFactory)
    name = factory.Sequence(lambda n: f"Projekt {n}")
    start_date = datetime.date(2019, 9, 23)
    end_date = datetime.date(2022, 9, 30)


class AnnualReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnnualReport
        skip_postgeneration_save = True

    association = factory.SubFactory(AssociationFactory)
    year = 2020
    title = factory.Sequence(lambda n: f"Poročilo {n}")

    @factory.post_generation
    def municipalities(self, create, extracted, **kwargs):
        if create and extracted:
            self.municipalities.set(extracted)

    @factory.post_generation
    def status(self, create, extracted, **kwargs):
        # The status last, as a report is written: a published report takes no more parts.
        self.status = extracted or AnnualReport.Status.DRAFT
        if create and extracted:
            self.save(update_fields=["status"])


class IndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indicator

    report = factory.SubFactory(AnnualReportFactory)
    name = factory.Sequence(lambda n: f"Kazalnik {n}")
    achieved = Decimal("10.00")


@contextmanager
def unpublished(report: AnnualReport):
    """Set a test up as if before the report was published: its parts may change meanwhile.

    Only a test's setup does this; the product never unpublishes (programs.publication).
    """
    AnnualReport.objects.filter(pk=report.pk).update(status=AnnualReport.Status.SUBMITTED)
    try:
        yield report
    finally:
        AnnualReport.objects.filter(pk=report.pk).update(status=AnnualReport.Status.PUBLISHED)

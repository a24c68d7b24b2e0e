"""The table's page costs the same number of queries whatever the strategy's size."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from funding.models import BudgetCategory
from tests.factories import (
    AssociationFactory,
    BudgetLineFactory,
    MembershipFactory,
    MunicipalityFactory,
    ShareFactory,
    StrategyFactory,
)

pytestmark = pytest.mark.django_db


def make_strategy(municipalities: int, associations: int, lines: int):
    strategy = StrategyFactory()
    base, rest = divmod(10000, municipalities)  # shares in hundredths of a percent
    for index in range(municipalities):
        hundredths = base + (1 if index < rest else 0)
        ShareFactory(
            strategy=strategy,
            municipality=MunicipalityFactory(),
            share_percent=Decimal(hundredths) / 100,
            position=index,
        )
    categories = list(BudgetCategory)
    for position in range(associations):
        association = AssociationFactory()
        MembershipFactory(strategy=strategy, association=association, position=position)
        for index in range(lines):
            BudgetLineFactory(
                strategy=strategy,
                association=association,
                category=categories[index],
                amount=Decimal("1234.57") * (index + 1),
            )
    return strategy


def count_queries(client, strategy, suffix="/"):
    url = f"/reports/strategies/{strategy.slug}/2025/cost-sharing{suffix}"
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("suffix", ["/", ".json", ".csv"])
def test_the_number_of_queries_does_not_grow_with_the_strategy(client, suffix):
    admin = get_user_model().objects.create_superuser("root", password="x")
    client.force_login(admin)
    counts = [
        count_queries(client, make_strategy(*size), suffix)
        for size in [(2, 1, 1), (5, 8, 3), (13, 30, 4)]
    ]
    assert counts[0] == counts[1] == counts[2], counts

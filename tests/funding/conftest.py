"""The demo strategy on its way through the councils, shared by the funding tests."""

import datetime

import pytest

from funding.adoption import adoption_record, revision_open, revision_propose
from funding.models import Municipality

PROPOSED = datetime.date(2024, 11, 20)
COUNCILS = [
    ("komen", datetime.date(2024, 12, 10), "410-0021/2024-4"),
    ("divaca", datetime.date(2024, 12, 12), "410-0045/2024-3"),
    ("hrpelje-kozina", datetime.date(2024, 12, 17), "410-0037/2024-2"),
    ("sezana", datetime.date(2024, 12, 19), "410-0102/2024-6"),
]


def adopt(revision, slug, date, number="1/2024"):
    return adoption_record(
        revision=revision,
        municipality=Municipality.objects.get(slug=slug),
        date=date,
        session="1. redna seja",
        resolution_number=number,
    )


@pytest.fixture
def proposed(demo):
    """The demo strategy proposed to the four councils."""
    return revision_propose(revision=revision_open(strategy=demo), proposed_on=PROPOSED)


@pytest.fixture
def in_force(proposed):
    """The demo strategy adopted by the four councils, in force and frozen."""
    for slug, date, number in COUNCILS:
        adopt(proposed, slug, date, number)
    proposed.refresh_from_db()
    return proposed

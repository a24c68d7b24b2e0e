"""``python manage.py load_demo``: the Kras strategy, the three seed reports, the demo users.

The Kras strategy is then proposed and adopted by the four councils (illustrative dates and
numbers from fixtures/kras-adoption.json: the proposal states none), so it is in force and
frozen as the product keeps an adopted strategy; ``--without-adoption`` leaves it a draft.

Idempotent: a second run replaces the demo strategy with the same data and resets the demo
users' passwords, so nothing is duplicated. Refused when debug is off, because the demo users
have published passwords.
"""

import datetime
import json

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from funding.adoption import adoption_record, revision_open, revision_propose
from funding.exchange import parse_strategy_document
from funding.models import Membership, Municipality, StrategyAdoption, StrategyRevision
from funding.projection import projection_derive
from funding.roles import CLERK, COORDINATOR, COUNCIL_MEMBER, OFFICER, roles_ensure
from funding.services import budget_items_load, strategy_import
from programs.services import action_plan_load, annual_reports_load

DEMO_FILE = settings.BASE_DIR / "fixtures" / "kras-2025-2029.json"
VELENJE_FILE = settings.BASE_DIR / "fixtures" / "velenje-las-2024.json"
REPORTS_FILE = settings.BASE_DIR / "fixtures" / "annual-reports.json"
ADOPTION_FILE = settings.BASE_DIR / "fixtures" / "kras-adoption.json"
ACTION_PLAN_FILE = settings.BASE_DIR / "fixtures" / "action-plan-2019-2020.json"
DEMO_PASSWORD = "demo"

# username, role (None: no group), municipality slugs, superuser
DEMO_USERS = [
    ("admin", None, [], True),
    ("koordinator", COORDINATOR, ["sezana"], False),
    ("uradnik.sezana", OFFICER, ["sezana"], False),
    ("uradnik.komen", OFFICER, ["komen"], False),
    ("svetnik.sezana", COUNCIL_MEMBER, ["sezana"], False),
    ("referent.sezana", CLERK, ["sezana"], False),
    ("uradnik.velenje", OFFICER, ["velenje"], False),
    ("svetnik.velenje", COUNCIL_MEMBER, ["velenje"], False),
    ("svetnik.kranj", COUNCIL_MEMBER, ["kranj"], False),
    ("zunanji", None, [], False),
]


class Command(BaseCommand):
    help = "Load the Kras 2025–2029 demo strategy and create one demo user per role."

    def add_arguments(self, parser):
        parser.add_argument(
            "--without-adoption",
            action="store_true",
            help="Leave the Kras strategy a draft, editable, as the tests of editing need it.",
        )
        parser.add_argument(
            "--base-year-only",
            action="store_true",
            help=(
                "Keep the Kras strategy's published 2025 lines only, without deriving "
                "2026–2029, as the tests of copying and importing lines need it."
            ),
        )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                _(
                    "Demo data and demo users are refused when debug is off "
                    "(their passwords are public). Set DJANGO_DEBUG=1 on a development machine."
                )
            )
        with transaction.atomic():
            document = parse_strategy_document(DEMO_FILE.read_text(encoding="utf-8"))
            _forget_adoption(document.slug)
            # The demo reset restores the demo's register records too, whatever was changed.
            strategy = strategy_import(
                document=document, update_register=True, change_reason="load_demo"
            )
            if not options["base_year_only"]:
                projection_derive(strategy=strategy)
            budget_items_load(document=json.loads(VELENJE_FILE.read_text(encoding="utf-8")))
            annual_reports_load(document=json.loads(REPORTS_FILE.read_text(encoding="utf-8")))
            action_plan_load(document=json.loads(ACTION_PLAN_FILE.read_text(encoding="utf-8")))
            groups = roles_ensure()
            for username, role, municipalities, superuser in DEMO_USERS:
                self._ensure_user(username, groups.get(role), municipalities, superuser)
            if not options["without_adoption"]:
                _adopt(strategy, json.loads(ADOPTION_FILE.read_text(encoding="utf-8")))
        self.stdout.write(
            _("Demo strategy %(slug)s loaded; demo users %(users)s, password “%(password)s”.")
            % {
                "slug": strategy.slug,
                "users": ", ".join(user[0] for user in DEMO_USERS),
                "password": DEMO_PASSWORD,
            }
        )

    def _ensure_user(self, username, group, municipality_slugs, superuser):
        user, _created = get_user_model().objects.get_or_create(username=username)
        user.is_superuser = superuser
        # Everyone with a role works in the admin; the outsider cannot log in there.
        user.is_staff = superuser or group is not None
        user.set_password(DEMO_PASSWORD)
        user.save()
        user.groups.set([group] if group else [])
        Membership.objects.filter(user=user).exclude(
            municipality__slug__in=municipality_slugs
        ).delete()
        for municipality in Municipality.objects.filter(slug__in=municipality_slugs):
            Membership.objects.get_or_create(user=user, municipality=municipality)


def _forget_adoption(slug: str) -> None:
    """Remove the demo strategy's revisions and adoptions, so that it can be loaded again.

    Frozen revisions refuse to be changed one by one; this bulk delete is the demo reset's
    alone (the command runs only with debug on), never a path for real data.
    """
    StrategyAdoption.objects.filter(revision__strategy__slug=slug).delete()
    StrategyRevision.objects.filter(strategy__slug=slug).delete()


def _adopt(strategy, document: dict) -> None:
    """Walk the strategy from draft through each council's adoption into force."""
    revision = revision_open(strategy=strategy)
    revision = revision_propose(
        revision=revision, proposed_on=datetime.date.fromisoformat(document["proposed_on"])
    )
    for entry in document["adoptions"]:
        adoption_record(
            revision=revision,
            municipality=Municipality.objects.get(slug=entry["municipality"]),
            date=datetime.date.fromisoformat(entry["date"]),
            session=entry["session"],
            resolution_number=entry["resolution_number"],
        )

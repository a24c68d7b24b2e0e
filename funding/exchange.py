"""The ``strategy/v1`` exchange format: a strategy as one JSON document.

It moves a strategy between installations, archives it and publishes it as open data. Reading
a document validates all of it first and reports every problem with its place in the file
(``associations[1].lines[0].amount``) and the offending value; nothing is written unless the
whole document is valid (see ``funding.services.strategy_import``).

Rules of the format (the README shows a full example):
- amounts and percents are JSON strings holding a plain decimal ("5047.00", "50.78"): at most
  two decimals, no sign, no exponent, no thousands separator — a number type would invite
  binary floating point;
- ``category`` is the category's Slovenian label ("Stroški zaposlenih");
- municipalities are listed in the table's column order, associations in the strategy's order;
- optional keys (items, programmes, in-kind support, institutions, details of municipalities and
  associations) round-trip: export → import → export gives identical JSON;
- municipalities, associations, institutions and programmes are the shared register: an
  existing one is matched by its key and never silently changed by an import
  (funding.register): an empty value keeps the stored one, a different value refuses the
  import unless it is allowed to update the register.
"""

import datetime
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from funding.amounts import NumberSyntaxError, parse_plain_decimal
from funding.limits import MAX_TEXT_CHARS
from funding.models import (
    CATEGORY_EXCHANGE_LABELS,
    FIRST_YEAR,
    LAST_YEAR,
    MAX_INDEXATION,
    MIN_INDEXATION,
    ONE_HUNDRED,
    BudgetCategory,
    BudgetLine,
    FundingStrategy,
    Municipality,
    decimal_sum,
    key_error,
)
from programs.models import Association, Programme

FORMAT = "strategy/v1"
_CATEGORY_BY_LABEL = {label: category for category, label in CATEGORY_EXCHANGE_LABELS.items()}
_SLUG = re.compile(r"^[-a-z0-9_]+$")
# 14 digits with 2 decimals, as the database stores amounts.
_MAX_AMOUNT = Decimal("999999999999.99")


class ExchangeError(Exception):
    """A document that cannot be imported; ``problems`` lists every reason with its place."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ItemDoc:
    description: str
    amount: Decimal
    pay_grade: int | None = None
    share_percent: Decimal | None = None


@dataclass(frozen=True)
class LineDoc:
    year: int
    category: BudgetCategory
    amount: Decimal
    note: str = ""
    items: tuple[ItemDoc, ...] = ()


@dataclass(frozen=True)
class ProgrammeDoc:
    name: str
    fields: dict[str, Any]
    funders: tuple[str, ...] = ()


@dataclass(frozen=True)
class MunicipalityDoc:
    slug: str
    name: str
    share_percent: Decimal
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AssociationDoc:
    slug: str
    name: str
    lines: tuple[LineDoc, ...]
    fields: dict[str, Any] = field(default_factory=dict)
    programmes: tuple[ProgrammeDoc, ...] | None = None
    funding_text: str = ""


@dataclass(frozen=True)
class InKindDoc:
    municipality: str
    association: str
    description: str
    address: str = ""


@dataclass(frozen=True)
class IndexationDoc:
    year: int
    category: BudgetCategory
    percent: Decimal
    basis: str = ""


@dataclass(frozen=True)
class StrategyDoc:
    """A validated strategy/v1 document, ready to be written."""

    slug: str
    title: str
    start_year: int
    end_year: int
    rounding_unit: str
    municipalities: tuple[MunicipalityDoc, ...]
    associations: tuple[AssociationDoc, ...]
    fields: dict[str, Any] = field(default_factory=dict)
    in_kind_support: tuple[InKindDoc, ...] = ()
    institutions: dict[str, str] = field(default_factory=dict)
    indexation_rates: tuple[IndexationDoc, ...] = ()


_MISSING = object()


class _Reader:
    """Reads values out of parsed JSON, collecting every problem instead of stopping at one."""

    def __init__(self):
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def unique(self, value: Any, seen: set, where: str) -> None:
        """Report a value met before (a slug or name that must appear once)."""
        if value is _MISSING:
            return
        if value in seen:
            self.fail(where, _("%(value)s appears twice") % {"value": _show(value)})
        seen.add(value)

    def get(self, obj: dict, key: str, path: str, *, required: bool) -> Any:
        if key in obj:
            return obj[key]
        if required:
            self.fail(path, _("the required key “%(key)s” is missing") % {"key": key})
        return _MISSING

    def text(self, obj, key, path, *, required=True, max_length=300, blank=False) -> Any:
        """A text of at most ``max_length`` characters; None: a prose field's own limit."""
        max_length = max_length or MAX_TEXT_CHARS
        value = self.get(obj, key, path, required=required)
        if value is _MISSING:
            return value
        where = f"{path}.{key}"
        if not isinstance(value, str):
            self.fail(where, _("%(value)s is not text") % {"value": _show(value)})
            return _MISSING
        if not blank and not value.strip():
            self.fail(where, _("must not be empty"))
            return _MISSING
        if len(value) > max_length:
            self.fail(
                where,
                _("is %(length)d characters long; at most %(max)d are allowed")
                % {"length": len(value), "max": max_length},
            )
            return _MISSING
        return value

    def slug(self, obj, key, path, *, required=True) -> Any:
        value = self.text(obj, key, path, required=required, max_length=60)
        if value is not _MISSING and not _SLUG.match(value):
            self.fail(
                f"{path}.{key}",
                _("%(value)s is not a slug (lower-case letters, digits, hyphens)")
                % {"value": _show(value)},
            )
            return _MISSING
        return value

    def integer(self, obj, key, path, *, minimum, maximum, required=True) -> Any:
        value = self.get(obj, key, path, required=required)
        if value is _MISSING or (value is None and not required):
            return value
        where = f"{path}.{key}"
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(where, _("%(value)s is not a whole number") % {"value": _show(value)})
            return _MISSING
        if not minimum <= value <= maximum:
            self.fail(
                where,
                _("%(value)s lies outside %(min)d–%(max)d")
                % {"value": value, "min": minimum, "max": maximum},
            )
            return _MISSING
        return value

    def decimal(
        self, obj, key, path, *, maximum, minimum_exclusive=False, required=True, signed=False
    ) -> Any:
        """A decimal string with at most two decimals, non-negative unless ``signed``."""
        value = self.get(obj, key, path, required=required)
        if value is _MISSING or (value is None and not required):
            return value
        where = f"{path}.{key}"
        if not isinstance(value, str):
            self.fail(
                where,
                _('%(value)s must be a decimal number written as a string, e.g. "5047.00"')
                % {"value": _show(value)},
            )
            return _MISSING
        try:
            number = parse_plain_decimal(value)
        except NumberSyntaxError:
            self.fail(where, _("%(value)s is not a decimal number") % {"value": _show(value)})
            return _MISSING
        if number < 0 and not signed:
            self.fail(where, _("%(value)s must not be negative") % {"value": _show(value)})
            return _MISSING
        if minimum_exclusive and number == 0:
            self.fail(where, _("%(value)s must be more than 0") % {"value": _show(value)})
            return _MISSING
        if number != number.quantize(Decimal("0.01")):
            self.fail(where, _("%(value)s has more than two decimals") % {"value": _show(value)})
            return _MISSING
        if number > maximum:
            self.fail(
                where,
                _("%(value)s is more than %(max)s") % {"value": _show(value), "max": maximum},
            )
            return _MISSING
        return number.quantize(Decimal("0.01"))

    def date(self, obj, key, path) -> Any:
        value = self.get(obj, key, path, required=False)
        if value is _MISSING or value is None:
            return value
        try:
            return datetime.date.fromisoformat(value)
        except (TypeError, ValueError):
            self.fail(
                f"{path}.{key}",
                _("%(value)s is not a date in the form YYYY-MM-DD") % {"value": _show(value)},
            )
            return _MISSING

    def choice(self, obj, key, path, choices, *, required=False) -> Any:
        value = self.get(obj, key, path, required=required)
        if value is _MISSING:
            return value
        try:
            known = value in choices
        except TypeError:  # a list or an object where a word belongs
            known = False
        if not known:
            self.fail(
                f"{path}.{key}",
                _("%(value)s is not one of %(choices)s")
                % {"value": _show(value), "choices": ", ".join(_show(c) for c in choices)},
            )
            return _MISSING
        return value

    def objects(self, obj, key, path, *, required=True) -> list[tuple[str, dict]]:
        """A list of JSON objects, each returned with its path."""
        value = self.get(obj, key, path, required=required)
        if value is _MISSING:
            return []
        where = f"{path}.{key}" if path else key
        if not isinstance(value, list):
            self.fail(where, _("must be a list"))
            return []
        result = []
        for index, element in enumerate(value):
            if isinstance(element, dict):
                result.append((f"{where}[{index}]", element))
            else:
                self.fail(f"{where}[{index}]", _("must be an object"))
        return result

    def optional_fields(self, obj, path, spec: dict[str, tuple]) -> dict[str, Any]:
        """Read optional keys by a spec of key → (kind, option); absent keys are left out."""
        fields = {}
        for key, (kind, option) in spec.items():
            if key not in obj:
                continue
            if kind == "text":
                value = self.text(obj, key, path, required=False, max_length=option, blank=True)
            elif kind == "date":
                value = self.date(obj, key, path)
            elif kind == "choice":
                value = self.choice(obj, key, path, option)
            elif kind == "bool":
                value = obj[key]
                if not isinstance(value, bool):
                    self.fail(
                        f"{path}.{key}",
                        _("%(value)s is not true or false") % {"value": _show(value)},
                    )
                    value = _MISSING
            else:  # pragma: no cover - the specs below use only the kinds above
                raise ValueError(kind)
            if value is not _MISSING:
                fields[key] = value
        return fields


_MUNICIPALITY_FIELDS = {
    "short_name": ("text", 60),
    "mayor_name": ("text", 120),
    "mayor_title": ("choice", ["", *Municipality.MayorTitle.values]),
    "address": ("text", 200),
    "statute_basis": ("text", 300),
}
_ASSOCIATION_FIELDS = {
    "short_name": ("text", 120),
    "legal_status": ("choice", Association.LegalStatus.values),
    "public_interest_field": ("text", 120),
    "status_granted_on": ("date", None),
    "status_basis": ("text", 300),
    "address": ("text", 200),
    "registration_number": ("text", 10),
    "tax_number": ("text", 8),
    "presentation": ("text", None),
}
_PROGRAMME_FIELDS = {
    "description": ("text", None),
    "kind": ("choice", Programme.Kind.values),
    "verified_until": ("date", None),
    "ministry_funding_period": ("text", 20),
    "target_groups": ("text", None),
    "locations": ("text", 300),
    "cofunded_by_strategy": ("bool", None),
}
_STRATEGY_FIELDS = {
    "document_date": ("date", None),
    "key_source": ("text", None),
    "funding_rules": ("text", None),
    "introduction": ("text", None),
    "assessment": ("text", None),
    "resolution_basis": ("text", None),
}


def _show(value: Any) -> str:
    """A value as the message quotes it: JSON, shortened when long."""
    shown = json.dumps(value, ensure_ascii=False)
    return shown if len(shown) <= 60 else shown[:57] + "…"


def parse_strategy_document(text: str) -> StrategyDoc:
    """Validate a strategy/v1 document; raise ExchangeError listing every problem."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ExchangeError(
            [
                _("the file is not valid JSON: %(reason)s at line %(line)d, column %(column)d")
                % {"reason": error.msg, "line": error.lineno, "column": error.colno}
            ]
        ) from None
    except RecursionError:
        # Python's parser recurses once per level: [[[[…]]]] a few thousand deep stops it.
        raise ExchangeError(
            [_("the file nests arrays or objects deeper than any strategy document does")]
        ) from None
    if not isinstance(data, dict):
        raise ExchangeError(
            [_("the file must hold one JSON object, not %(kind)s") % {"kind": type(data).__name__}]
        )
    if nul_places := list(_nul_places(data)):
        # No stored text holds one, and PostgreSQL refuses it in any query.
        raise ExchangeError(
            [
                f"{place}: " + _("contains a NUL character (code 0), which no text may hold")
                for place in nul_places
            ]
        )
    if data.get("format") != FORMAT:
        raise ExchangeError(
            [
                _("format: %(value)s is not a strategy exchange file; expected %(expected)s")
                % {"value": _show(data.get("format")), "expected": _show(FORMAT)}
            ]
        )
    reader = _Reader()
    document = _read_strategy(reader, data)
    if reader.problems:
        raise ExchangeError(reader.problems)
    return document


def _nul_places(value: Any, path: str = ""):
    """Where the parsed document holds a NUL character, named as the problems name places."""
    if isinstance(value, str):
        if "\x00" in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            if path:
                where = f"{path}.{key}"
            else:  # the strategy's own fields, as "strategy.title"; its lists by their name
                where = key if isinstance(item, list | dict) else f"strategy.{key}"
            if "\x00" in key:
                yield where
            else:
                yield from _nul_places(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_places(item, f"{path}[{index}]")


def _read_strategy(reader: _Reader, data: dict) -> StrategyDoc | None:
    path = "strategy"
    slug = reader.slug(data, "slug", path)
    title = reader.text(data, "title", path, max_length=500)
    start = reader.integer(data, "start_year", path, minimum=FIRST_YEAR, maximum=LAST_YEAR)
    end = reader.integer(data, "end_year", path, minimum=FIRST_YEAR, maximum=LAST_YEAR)
    period_known = start is not _MISSING and end is not _MISSING
    if period_known and start > end:
        reader.fail(
            f"{path}.end_year",
            _("the last year %(end)d is before the first year %(start)d")
            % {"end": end, "start": start},
        )
        period_known = False
    rounding = reader.choice(
        data, "rounding_unit", path, FundingStrategy.RoundingUnit.values, required=True
    )
    fields = reader.optional_fields(data, path, _STRATEGY_FIELDS)

    institutions = _read_institutions(reader, data)
    municipalities = _read_municipalities(reader, data)
    municipality_slugs = {m.slug for m in municipalities}
    lead = _MISSING
    if data.get("lead_municipality") is not None:
        lead = reader.slug(data, "lead_municipality", path)
    if lead is not _MISSING:
        if lead not in municipality_slugs:
            reader.fail(
                f"{path}.lead_municipality",
                _("%(value)s is not one of the strategy's municipalities") % {"value": _show(lead)},
            )
        else:
            fields["lead_municipality"] = lead
    years = range(start, end + 1) if period_known else None
    associations = _read_associations(reader, data, years, institutions)
    in_kind = _read_in_kind(reader, data, municipality_slugs, {a.slug for a in associations})
    indexation = _read_indexation(reader, data, years)

    if reader.problems:
        return None
    return StrategyDoc(
        slug=slug,
        title=title,
        start_year=start,
        end_year=end,
        rounding_unit=rounding,
        municipalities=tuple(municipalities),
        associations=tuple(associations),
        fields=fields,
        in_kind_support=tuple(in_kind),
        institutions=institutions,
        indexation_rates=tuple(indexation),
    )


def _read_indexation(reader: _Reader, data: dict, years) -> list[IndexationDoc]:
    result, seen = [], set()
    for path, obj in reader.objects(data, "indexation_rates", "", required=False):
        year = reader.integer(obj, "year", path, minimum=FIRST_YEAR, maximum=LAST_YEAR)
        category = reader.choice(obj, "category", path, _CATEGORY_BY_LABEL, required=True)
        percent = reader.decimal(obj, "percent", path, maximum=MAX_INDEXATION, signed=True)
        basis = reader.text(obj, "basis", path, required=False, max_length=300, blank=True)
        if year is not _MISSING and years is not None and year not in years[1:]:
            reader.fail(
                f"{path}.year",
                _("%(value)s is not a later year of the strategy") % {"value": _show(year)},
            )
        if percent is not _MISSING and percent < MIN_INDEXATION:
            reader.fail(
                f"{path}.percent",
                _("%(value)s is below %(min)s") % {"value": _show(percent), "min": MIN_INDEXATION},
            )
            percent = _MISSING
        if _MISSING not in (year, category):
            reader.unique((year, category), seen, f"{path}.category")
        if _MISSING not in (year, category, percent):
            result.append(
                IndexationDoc(
                    year=year,
                    category=_CATEGORY_BY_LABEL[category],
                    percent=percent,
                    basis="" if basis is _MISSING else basis,
                )
            )
    return result


def _read_institutions(reader: _Reader, data: dict) -> dict[str, str]:
    institutions, seen = {}, set()
    for path, obj in reader.objects(data, "institutions", "", required=False):
        short = reader.text(obj, "short_name", path, max_length=30)
        name = reader.text(obj, "name", path, max_length=300)
        reader.unique(short, seen, f"{path}.short_name")
        if _MISSING not in (short, name):
            institutions[short] = name
    return institutions


def _read_municipalities(reader: _Reader, data: dict) -> list[MunicipalityDoc]:
    result, seen_slugs, seen_names = [], set(), set()
    entries = reader.objects(data, "municipalities", "")
    if "municipalities" in data and not entries and isinstance(data["municipalities"], list):
        reader.fail("municipalities", _("a strategy needs at least one municipality"))
    shares: list[Decimal] = []
    shares_complete = True
    for path, obj in entries:
        slug = reader.slug(obj, "slug", path)
        name = reader.text(obj, "name", path, max_length=120)
        share = reader.decimal(
            obj, "share_percent", path, maximum=ONE_HUNDRED, minimum_exclusive=True
        )
        fields = reader.optional_fields(obj, path, _MUNICIPALITY_FIELDS)
        reader.unique(slug, seen_slugs, f"{path}.slug")
        reader.unique(name, seen_names, f"{path}.name")
        if share is _MISSING:
            shares_complete = False
        else:
            shares.append(share)
        if _MISSING not in (slug, name, share):
            result.append(MunicipalityDoc(slug=slug, name=name, share_percent=share, fields=fields))
    if entries and shares_complete and key_error(shares) is not None:
        reader.fail(
            "municipalities",
            _("the shares add up to %(total)s %%, not 100.00 %%") % {"total": decimal_sum(shares)},
        )
    return result


def _read_associations(reader, data, years, institutions) -> list[AssociationDoc]:
    result, seen_slugs, seen_names = [], set(), set()
    for path, obj in reader.objects(data, "associations", ""):
        slug = reader.slug(obj, "slug", path)
        name = reader.text(obj, "name", path, max_length=300)
        fields = reader.optional_fields(obj, path, _ASSOCIATION_FIELDS)
        reader.unique(slug, seen_slugs, f"{path}.slug")
        reader.unique(name, seen_names, f"{path}.name")
        lines = _read_lines(reader, obj, path, years)
        programmes = None
        if "programmes" in obj:
            programmes = tuple(_read_programmes(reader, obj, path, institutions))
        funding_text = reader.text(
            obj, "funding_text", path, required=False, max_length=None, blank=True
        )
        if _MISSING not in (slug, name):
            result.append(
                AssociationDoc(
                    slug=slug,
                    name=name,
                    lines=tuple(lines),
                    fields=fields,
                    programmes=programmes,
                    funding_text="" if funding_text is _MISSING else funding_text,
                )
            )
    return result


def _read_lines(reader: _Reader, association: dict, path: str, years) -> list[LineDoc]:
    result, seen = [], {}
    for line_path, obj in reader.objects(association, "lines", path):
        year = reader.integer(obj, "year", line_path, minimum=FIRST_YEAR, maximum=LAST_YEAR)
        if year is not _MISSING and years is not None and year not in years:
            reader.fail(
                f"{line_path}.year",
                _("%(year)d lies outside the strategy's period %(start)d–%(end)d")
                % {"year": year, "start": years.start, "end": years.stop - 1},
            )
            year = _MISSING
        category = reader.choice(
            obj, "category", line_path, list(_CATEGORY_BY_LABEL), required=True
        )
        amount = reader.decimal(obj, "amount", line_path, maximum=_MAX_AMOUNT)
        note = reader.text(obj, "note", line_path, required=False, max_length=None, blank=True)
        items = _read_items(reader, obj, line_path, amount)
        if year is not _MISSING and category is not _MISSING:
            key = (year, category)
            if key in seen:
                reader.fail(
                    line_path,
                    _("a second line for %(year)d, %(category)s (first at %(first)s)")
                    % {"year": year, "category": category, "first": seen[key]},
                )
            seen.setdefault(key, line_path)
        if _MISSING not in (year, category, amount):
            result.append(
                LineDoc(
                    year=year,
                    category=_CATEGORY_BY_LABEL[category],
                    amount=amount,
                    note="" if note is _MISSING else note,
                    items=tuple(items),
                )
            )
    return result


def _read_items(reader: _Reader, line: dict, path: str, line_amount) -> list[ItemDoc]:
    result, complete, total = [], True, Decimal("0.00")
    entries = reader.objects(line, "items", path, required=False)
    for item_path, obj in entries:
        description = reader.text(obj, "description", item_path)
        amount = reader.decimal(obj, "amount", item_path, maximum=_MAX_AMOUNT)
        grade = reader.integer(obj, "pay_grade", item_path, minimum=1, maximum=65, required=False)
        share = reader.decimal(
            obj,
            "share_percent",
            item_path,
            maximum=ONE_HUNDRED,
            minimum_exclusive=True,
            required=False,
        )
        if _MISSING in (description, amount) or (grade is _MISSING and "pay_grade" in obj):
            complete = False
            continue
        if share is _MISSING and "share_percent" in obj:
            complete = False
            continue
        total += amount
        result.append(
            ItemDoc(
                description=description,
                amount=amount,
                pay_grade=None if grade is _MISSING else grade,
                share_percent=None if share is _MISSING else share,
            )
        )
    if (
        entries
        and complete
        and line_amount is not _MISSING
        and BudgetLine.items_error(line_amount, [item.amount for item in result]) is not None
    ):
        reader.fail(
            f"{path}.items",
            _("the items add up to %(total)s, but the line's amount is %(amount)s")
            % {"total": total, "amount": line_amount},
        )
    return result


def _read_programmes(reader, association, path, institutions) -> list[ProgrammeDoc]:
    result, seen = [], set()
    for programme_path, obj in reader.objects(association, "programmes", path):
        name = reader.text(obj, "name", programme_path)
        fields = reader.optional_fields(obj, programme_path, _PROGRAMME_FIELDS)
        funders = obj.get("other_funders", [])
        if not isinstance(funders, list) or not all(isinstance(f, str) for f in funders):
            reader.fail(f"{programme_path}.other_funders", _("must be a list of abbreviations"))
            funders = []
        for funder in funders:
            if funder not in institutions:
                reader.fail(
                    f"{programme_path}.other_funders",
                    _("%(value)s is not listed under “institutions”") % {"value": _show(funder)},
                )
        reader.unique(name, seen, f"{programme_path}.name")
        if name is not _MISSING:
            result.append(ProgrammeDoc(name=name, fields=fields, funders=tuple(funders)))
    return result


def _read_in_kind(reader, data, municipality_slugs, association_slugs) -> list[InKindDoc]:
    result = []
    for path, obj in reader.objects(data, "in_kind_support", "", required=False):
        municipality = reader.slug(obj, "municipality", path)
        association = reader.slug(obj, "association", path)
        description = reader.text(obj, "description", path, max_length=None)
        address = reader.text(obj, "address", path, required=False, max_length=200, blank=True)
        if municipality is not _MISSING and municipality not in municipality_slugs:
            reader.fail(
                f"{path}.municipality",
                _("%(value)s is not one of the strategy's municipalities")
                % {"value": _show(municipality)},
            )
            municipality = _MISSING
        if association is not _MISSING and association not in association_slugs:
            reader.fail(
                f"{path}.association",
                _("%(value)s is not one of the strategy's associations")
                % {"value": _show(association)},
            )
            association = _MISSING
        if _MISSING not in (municipality, association, description):
            result.append(
                InKindDoc(
                    municipality=municipality,
                    association=association,
                    description=description,
                    address="" if address is _MISSING else address,
                )
            )
    return result


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _iso(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


def strategy_document(strategy: FundingStrategy) -> dict:
    """The strategy as a strategy/v1 document (a dict ready for ``json.dumps``)."""
    shares = strategy.shares.select_related("municipality").order_by("position", "id")
    memberships = strategy.strategy_associations.select_related("association").order_by(
        "position", "id"
    )
    lines = strategy.lines.prefetch_related("items").order_by("year", "id")
    lines_by_association: dict[int, list] = {}
    for line in sorted(lines, key=lambda ln: (ln.year, _category_index(ln.category))):
        lines_by_association.setdefault(line.association_id, []).append(line)
    association_ids = [m.association_id for m in memberships]
    programmes = (
        Programme.objects.filter(association_id__in=association_ids)
        .prefetch_related("other_funders")
        .order_by("position", "id")
    )
    programmes_by_association: dict[int, list] = {}
    for programme in programmes:
        programmes_by_association.setdefault(programme.association_id, []).append(programme)
    funders = sorted(
        {funder for programme in programmes for funder in programme.other_funders.all()},
        key=lambda funder: funder.short_name,
    )
    return {
        "format": FORMAT,
        "slug": strategy.slug,
        "title": strategy.title,
        "start_year": strategy.start_year,
        "end_year": strategy.end_year,
        "rounding_unit": strategy.rounding_unit,
        "document_date": _iso(strategy.document_date),
        "lead_municipality": strategy.lead_municipality.slug
        if strategy.lead_municipality
        else None,
        "key_source": strategy.key_source,
        "funding_rules": strategy.funding_rules,
        "introduction": strategy.introduction,
        "assessment": strategy.assessment,
        "resolution_basis": strategy.resolution_basis,
        "institutions": [{"short_name": f.short_name, "name": f.name} for f in funders],
        "municipalities": [_municipality_entry(share) for share in shares],
        "associations": [
            _association_entry(
                m,
                lines_by_association.get(m.association_id, []),
                programmes_by_association.get(m.association_id, []),
            )
            for m in memberships
        ],
        "indexation_rates": [
            {
                "year": rate.year,
                "category": CATEGORY_EXCHANGE_LABELS[BudgetCategory(rate.category)],
                "percent": f"{rate.percent:.2f}",
                "basis": rate.basis,
            }
            for rate in sorted(
                strategy.indexation_rates.all(),
                key=lambda rate: (rate.year, _category_index(rate.category)),
            )
        ],
        "in_kind_support": [
            {
                "municipality": support.municipality.slug,
                "association": support.association.slug,
                "description": support.description,
                "address": support.address,
            }
            for support in strategy.in_kind_support.select_related("municipality", "association")
        ],
    }


def strategy_json(strategy: FundingStrategy) -> str:
    """The strategy/v1 document as UTF-8 JSON text, stable byte for byte."""
    return json.dumps(strategy_document(strategy), ensure_ascii=False, indent=2) + "\n"


def _category_index(category: str) -> int:
    return list(BudgetCategory).index(BudgetCategory(category))


def _municipality_entry(share) -> dict:
    municipality = share.municipality
    return {
        "slug": municipality.slug,
        "name": municipality.name,
        "share_percent": f"{share.share_percent:.2f}",
        "short_name": municipality.short_name,
        "mayor_name": municipality.mayor_name,
        "mayor_title": municipality.mayor_title,
        "address": municipality.address,
        "statute_basis": municipality.statute_basis,
    }


def _association_entry(membership, lines, programmes) -> dict:
    association = membership.association
    return {
        "slug": association.slug,
        "name": association.name,
        "short_name": association.short_name,
        "legal_status": association.legal_status,
        "public_interest_field": association.public_interest_field,
        "status_granted_on": _iso(association.status_granted_on),
        "status_basis": association.status_basis,
        "address": association.address,
        "registration_number": association.registration_number,
        "tax_number": association.tax_number,
        "presentation": association.presentation,
        "funding_text": membership.funding_text,
        "lines": [_line_entry(line) for line in lines],
        "programmes": [_programme_entry(programme) for programme in programmes],
    }


def _line_entry(line) -> dict:
    entry = {
        "year": line.year,
        "category": line.exchange_category,
        "amount": _money(line.amount),
        "note": line.note,
    }
    items = list(line.items.all())
    if items:
        entry["items"] = [
            {
                "description": item.description,
                "pay_grade": item.pay_grade,
                "share_percent": None
                if item.share_percent is None
                else f"{item.share_percent:.2f}",
                "amount": _money(item.amount),
            }
            for item in items
        ]
    return entry


def _programme_entry(programme) -> dict:
    return {
        "name": programme.name,
        "description": programme.description,
        "kind": programme.kind,
        "verified_until": _iso(programme.verified_until),
        "ministry_funding_period": programme.ministry_funding_period,
        "target_groups": programme.target_groups,
        "locations": programme.locations,
        "other_funders": sorted(f.short_name for f in programme.other_funders.all()),
        "cofunded_by_strategy": programme.cofunded_by_strategy,
    }

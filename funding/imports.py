"""Spreadsheet imports of budget lines, items and allocations: reading files, checking every row.

The resources in ``funding.resources`` (used by the admin and by ``import_budget_lines`` and
``import_allocations``) call ``plan_line_import`` / ``plan_item_import`` /
``plan_allocation_import`` on the whole file before a single row is written.
A plan holds, for every row of the file, either what to write or every problem of that row;
one problem anywhere and nothing is written.

Rules:
- Every problem names its line in the file (the header is line 1), its column as the file
  names it, and the offending value. All problems of a file are reported at once.
- Columns carry Slovenian headers (``strategija``, ``leto``, ``društvo``, ``kategorija``,
  ``opis``, ``znesek``; items ``delovno mesto``, ``plačni razred``, ``delež (%)``); the model's
  English names are accepted too, in any case and with or without diacritics.
- A row is identified by strategy (slug) + year + association (slug, short name or full name)
  + category (the Slovenian label or the internal value). The same key twice is an error.
- Amounts are Decimals with at most two decimals: "1.234,56", "1234,56" and "1234.56" are the
  same amount; a single separator followed by exactly three digits ("1,005", "12.345") is
  ambiguous and refused; negative, text and empty amounts are refused. A spreadsheet's number
  cell goes through ``Decimal(str(value))`` and is refused when it has more than two decimals:
  nothing is ever rounded silently.
- Text cells are stored as plain text. A leading apostrophe before = + - @ is dropped, because
  it is the escape the export puts there against formula injection; export → import round-trips.
- The importing user must be allowed to edit every strategy the file touches
  (``funding.permissions.editable_strategies``); a system import may edit any strategy. A
  strategy the user may not even read is refused in the words of one that does not exist.
- Item files give all items of each budget line they mention: those items replace the line's
  items (matched by position description, so an unchanged file changes nothing), and they must
  add up to the line's amount.

Allocations (money of a municipality's budget item given to a recipient, planned and realised):
- Columns ``občina`` (slug, short or full name), ``leto``, ``postavka`` (the item's name or
  code, within the municipality and year), ``prejemnik``, ``načrtovano`` (optional) and
  ``realizirano``. The budget item must exist; the import never creates items.
- A row is identified by budget item + recipient (compared as headers are: case, diacritics
  and spacing ignored); the same key twice is an error. A row creates the allocation, updates
  its amounts (and the recipient's spelling), or leaves it unchanged.
- Allocations the file does not name stay as they are. Budget-item files replace a line's items
  because those items must add up to the line's amount, so a file has to give them all; an
  allocation has no such sum to meet, officers record realisation as payments come in, often
  for one recipient at a time, and a partial file must not silently delete the rest. Removing
  an allocation stays a deliberate act in the admin.
- The importing user must be a member of the row's municipality with the right to change
  allocations (``funding.permissions.editable_municipalities``); a system import may write any.
  A municipality whose allocations the user may not read is refused as one that does not exist.
- Where the item's adopted amount is known, its realised allocations (the file's rows together
  with the allocations the file leaves alone) must not exceed the money available, adopted
  amount plus reallocations in minus out: the rule of ``Allocation.clean``.
"""

import contextlib
import csv
import io
import os
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import openpyxl
import tablib
from django.core.exceptions import NON_FIELD_ERRORS
from django.db.models import Q
from django.utils.translation import gettext as _
from import_export.formats import base_formats
from import_export.tmp_storages import TempFolderStorage
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

from funding.amounts import (
    AmountSyntaxError,
    NumberSyntaxError,
    parse_amount_text,
    parse_whole_number,
)
from funding.limits import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    MAX_UNPACKED_BYTES,
)
from funding.locks import lock_reason
from funding.models import (
    CATEGORY_EXCHANGE_LABELS,
    MIN_SHARE,
    ONE_HUNDRED,
    Allocation,
    BudgetCategory,
    BudgetItem,
    BudgetLine,
    FundingStrategy,
    MunicipalBudgetItem,
    Municipality,
    Reallocation,
    StrategyAssociation,
    decimal_sum,
    money,
)
from funding.permissions import (
    editable_municipalities,
    editable_strategies,
    readable_municipalities,
    readable_strategies,
)
from programs.models import Association

# 14 digits with 2 decimals, as the database stores amounts.
MAX_AMOUNT = Decimal("999999999999.99")
MAX_PAY_GRADE = 65
# Characters that make a spreadsheet cell a formula (or smuggle one in after a tab or CR).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CENT = Decimal("0.01")


class ImportFileError(Exception):
    """A file that cannot be read at all, or whose header is wrong; ``problems`` says why."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class CellError(Exception):
    """A cell that cannot be used; the message names the line, the column and the value."""


# --- Columns -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of an import file: the model attribute, the Slovenian header, other names."""

    name: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = True


_KEY_COLUMNS = (
    Column("strategy", "strategija", ("strategy",)),
    Column("year", "leto", ("year",)),
    Column("association", "društvo", ("association",)),
    Column("category", "kategorija", ("category",)),
)
LINE_COLUMNS = (
    *_KEY_COLUMNS,
    Column("note", "opis", ("description", "note", "opomba"), required=False),
    Column("amount", "znesek", ("amount", "znesek (eur)", "amount (eur)")),
)
ITEM_COLUMNS = (
    *_KEY_COLUMNS,
    Column("description", "delovno mesto", ("position", "description", "opis")),
    Column("pay_grade", "plačni razred", ("pay grade", "pay_grade"), required=False),
    Column(
        "share_percent",
        "delež (%)",
        ("share (%)", "share", "share_percent", "delež", "share of the salary (%)"),
        required=False,
    ),
    Column("amount", "znesek", ("amount", "znesek (eur)", "amount (eur)")),
)
ALLOCATION_COLUMNS = (
    Column("municipality", "občina", ("municipality",)),
    Column("year", "leto", ("year",)),
    Column("item", "postavka", ("budget item", "item", "proračunska postavka")),
    Column("recipient", "prejemnik", ("recipient",)),
    Column(
        "planned_amount",
        "načrtovano",
        ("planned", "planned (eur)", "planned amount", "načrtovano (eur)", "plan"),
        required=False,
    ),
    Column(
        "realised_amount",
        "realizirano",
        ("realised", "realized", "realised (eur)", "realised amount", "realizirano (eur)"),
    ),
)


def normalize_name(text: Any) -> str:
    """A header or label as compared: case, diacritics, underscores and spacing ignored."""
    decomposed = unicodedata.normalize("NFKD", str(text or ""))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.replace("_", " ").casefold().split())


@dataclass
class Header:
    """Which column of the file feeds which model attribute."""

    index_by_name: dict[str, int]
    shown_by_name: dict[str, str]
    columns: tuple[Column, ...]
    width: int

    def canonical(self) -> list[str]:
        """The columns' Slovenian headers in the file's order; unnamed columns get a number."""
        names = [f"({i + 1})" for i in range(self.width)]
        for column in self.columns:
            if column.name in self.index_by_name:
                names[self.index_by_name[column.name]] = column.header
        return names


def read_header(headers: list | None, columns: tuple[Column, ...], rows: list) -> Header:
    """Match the file's header row to the columns; raise ImportFileError on any problem."""
    listing = ", ".join(f"“{c.header}”" for c in columns)
    if not headers or not any(str(h or "").strip() for h in headers):
        raise ImportFileError(
            [
                _("The file has no header row; its first line must name the columns %(columns)s.")
                % {"columns": listing}
            ]
        )
    by_alias = {
        normalize_name(alias): column
        for column in columns
        for alias in (column.header, column.name, *column.aliases)
    }
    problems, index_by_name, shown_by_name = [], {}, {}
    for index, raw in enumerate(headers):
        shown = str(raw if raw is not None else "").strip()
        if not shown:
            line = _first_line_with_value(rows, index)
            if line:
                problems.append(
                    _(
                        "Line 1: column %(number)d has no header, "
                        "but line %(line)d has a value in it."
                    )
                    % {"number": index + 1, "line": line}
                )
            continue
        column = by_alias.get(normalize_name(shown))
        if column is None:
            problems.append(
                _("Line 1: the column “%(column)s” is not known; the columns are %(columns)s.")
                % {"column": shown, "columns": listing}
            )
        elif column.name in index_by_name:
            problems.append(
                _("Line 1: the columns “%(first)s” and “%(second)s” both give “%(column)s”.")
                % {"first": shown_by_name[column.name], "second": shown, "column": column.header}
            )
        else:
            index_by_name[column.name] = index
            shown_by_name[column.name] = shown
    for column in columns:
        if column.required and column.name not in index_by_name:
            problems.append(
                _(
                    "Line 1: the required column “%(column)s” is missing; "
                    "the columns are %(columns)s."
                )
                % {"column": column.header, "columns": listing}
            )
    if problems:
        raise ImportFileError(problems)
    return Header(index_by_name, shown_by_name, columns, len(headers))


def _first_line_with_value(rows: list, index: int) -> int | None:
    for number, row in enumerate(rows, start=2):
        if index < len(row) and not is_blank(row[index]):
            return number
    return None


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- Cells ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One value of the file with its place: the line (header = 1) and the column's header."""

    line: int
    column: str
    value: Any

    @property
    def shown(self) -> str:
        """The value as messages quote it, shortened when long."""
        text = "" if self.value is None else str(self.value)
        return text if len(text) <= 60 else text[:57] + "…"

    def error(self, message: str, **params) -> CellError:
        return CellError(
            message % {"line": self.line, "column": self.column, "value": self.shown, **params}
        )


def cell_text(cell: Cell) -> str:
    """A cell as text: numbers without a spurious ".0", surrounding spaces removed."""
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_text(cell: Cell, *, max_length: int | None = None, required: bool = False) -> str:
    """Plain text; a leading apostrophe that escaped a formula character is dropped."""
    text = cell_text(cell)
    if text.startswith("'") and text[1:2] and text[1] in FORMULA_PREFIXES:
        text = text[1:]
    if required and not text:
        raise cell.error(
            _("Line %(line)d, column “%(column)s”: the cell is empty, but a value is required.")
        )
    if max_length is not None and len(text) > max_length:
        raise cell.error(
            _(
                "Line %(line)d, column “%(column)s”: the text has %(length)d characters; "
                "at most %(max)d are allowed."
            ),
            length=len(text),
            max=max_length,
        )
    return text


def parse_year(cell: Cell) -> int:
    """A year: a whole number, from a text cell or a number cell."""
    value = cell.value
    if is_blank(value):
        raise _empty(cell)
    if isinstance(value, bool):
        raise cell.error(_("Line %(line)d, column “%(column)s”: “%(value)s” is not a year."))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    try:
        year = parse_whole_number(text)
    except NumberSyntaxError:
        year = None
    if year is None or len(text) != 4:
        raise cell.error(_("Line %(line)d, column “%(column)s”: “%(value)s” is not a year."))
    return year


def parse_amount(cell: Cell) -> Decimal:
    """An amount in euros: at least 0, at most two decimals, never rounded."""
    value = cell.value
    if is_blank(value):
        raise _empty(cell)
    if isinstance(value, bool):
        raise _not_amount(cell)
    if isinstance(value, int | float | Decimal):
        number = _number_cell(cell, value)
    else:
        number = _amount_text(cell, str(value).strip())
    if number < 0:
        raise cell.error(
            _(
                "Line %(line)d, column “%(column)s”: the amount “%(value)s” is negative; "
                "amounts must not be negative."
            )
        )
    if number != number.quantize(CENT):
        raise _too_many_decimals(cell)
    if number > MAX_AMOUNT:
        raise cell.error(
            _(
                "Line %(line)d, column “%(column)s”: the amount “%(value)s” is larger than "
                "the largest amount %(max)s."
            ),
            max=money(MAX_AMOUNT),
        )
    return number.quantize(CENT)


def _number_cell(cell: Cell, value) -> Decimal:
    """A spreadsheet's number cell; a float goes through its shortest text, never binary."""
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise _not_amount(cell) from None
    if not number.is_finite():
        raise _not_amount(cell)
    return number


def _amount_text(cell: Cell, text: str) -> Decimal:
    """Read "1.234,56", "1234,56", "1234.56", "1,234.56", "1.234.567" or "1234"."""
    try:
        return parse_amount_text(text)
    except AmountSyntaxError as error:
        if not error.ambiguous:
            raise _not_amount(cell) from None
        raise cell.error(
            _(
                "Line %(line)d, column “%(column)s”: the amount “%(value)s” is ambiguous: "
                "the three digits after the separator may be thousands or decimals; write "
                "whole euros without a separator (1005) or give two decimals (1005,00)."
            )
        ) from None


def parse_share(cell: Cell) -> Decimal | None:
    """A share of a salary in percent: empty, or more than 0 and at most 100, two decimals."""
    if is_blank(cell.value):
        return None
    value = cell.value
    if isinstance(value, str):
        value = value.strip().removesuffix("%").strip()
    try:
        share = parse_amount(Cell(cell.line, cell.column, value))
    except CellError:
        raise _not_share(cell) from None
    if not MIN_SHARE <= share <= ONE_HUNDRED:
        raise _not_share(cell)
    return share


def parse_pay_grade(cell: Cell) -> int | None:
    """A pay grade (plačni razred): empty, or a whole number from 1 to 65."""
    value = cell.value
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        with contextlib.suppress(NumberSyntaxError):  # refused below, as any other text
            value = parse_whole_number(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAY_GRADE:
        raise cell.error(
            _(
                "Line %(line)d, column “%(column)s”: “%(value)s” is not a pay grade; "
                "pay grades are whole numbers from 1 to 65."
            )
        )
    return value


_CATEGORY_BY_NAME = {
    **{normalize_name(label): category for category, label in CATEGORY_EXCHANGE_LABELS.items()},
    **{normalize_name(category.value): category for category in BudgetCategory},
}


def parse_category(cell: Cell) -> BudgetCategory:
    """A category by its Slovenian label ("Stroški zaposlenih") or internal value ("staff")."""
    if is_blank(cell.value):
        raise _empty(cell)
    category = _CATEGORY_BY_NAME.get(normalize_name(cell_text(cell)))
    if category is None:
        raise cell.error(
            _(
                "Line %(line)d, column “%(column)s”: “%(value)s” is not a category; "
                "the categories are %(categories)s."
            ),
            categories=", ".join(f"“{label}”" for label in CATEGORY_EXCHANGE_LABELS.values()),
        )
    return category


def _empty(cell: Cell) -> CellError:
    return cell.error(
        _("Line %(line)d, column “%(column)s”: the cell is empty, but a value is required.")
    )


def _not_amount(cell: Cell) -> CellError:
    return cell.error(
        _(
            "Line %(line)d, column “%(column)s”: “%(value)s” is not an amount; "
            "write it as 1234,56 or 1.234,56."
        )
    )


def _too_many_decimals(cell: Cell) -> CellError:
    return cell.error(
        _(
            "Line %(line)d, column “%(column)s”: the amount “%(value)s” has more than two "
            "decimals; amounts are in euros and cents."
        )
    )


def _not_share(cell: Cell) -> CellError:
    return cell.error(
        _(
            "Line %(line)d, column “%(column)s”: “%(value)s” is not a share; write a percentage "
            "above 0 and at most 100 with at most two decimals, such as 60 or 62,5."
        )
    )


# --- Plans ---------------------------------------------------------------------------------


@dataclass
class RowPlan:
    """What one row of the file does, or every problem it has."""

    line: int
    blank: bool = False
    problems: dict[str, list[str]] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    instance: Any = None  # the existing line or item; None for a new one
    unchanged: bool = False

    def fail(self, name: str, error: CellError | str) -> None:
        self.problems.setdefault(name, []).append(str(error))


@dataclass
class ImportPlan:
    """The checked file: one RowPlan per data row, in file order."""

    header: Header
    rows: list[RowPlan]
    stale_items: list[BudgetItem] = field(default_factory=list)
    touched_lines: list[BudgetLine] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """Every problem of the file, in file order."""
        return [m for row in self.rows for messages in row.problems.values() for m in messages]


class _Cells:
    """The cells of one row by model attribute, with their line and column header."""

    def __init__(self, header: Header, line: int, values: list):
        self.header, self.line, self.values = header, line, values

    def __getitem__(self, name: str) -> Cell:
        index = self.header.index_by_name.get(name)
        value = self.values[index] if index is not None and index < len(self.values) else None
        return Cell(self.line, self.header.shown_by_name.get(name, name), value)

    def has(self, name: str) -> bool:
        return name in self.header.index_by_name


def _data_rows(dataset: tablib.Dataset, columns: tuple[Column, ...]) -> tuple[Header, list]:
    """The header and the rows as lists; refuse a file without rows below its header."""
    rows = [list(row) for row in dataset]
    header = read_header(list(dataset.headers or []), columns, rows)
    if all(all(is_blank(v) for v in row) for row in rows):
        raise ImportFileError([_("The file has a header but no rows to import.")])
    return header, rows


class _Lookups:
    """Everything the rows refer to, loaded in a handful of queries for the whole file."""

    def __init__(self, cells: list[_Cells], *, user, as_system: bool):
        slugs = {cell_text(c["strategy"]).casefold() for c in cells}
        self.strategies = {s.slug: s for s in FundingStrategy.objects.filter(slug__in=slugs)}
        ids = [s.pk for s in self.strategies.values()]
        if as_system:
            self.editable = self.readable = set(ids)
        elif user is None:
            raise ValueError("An import needs the importing user, or as_system=True.")
        else:
            self.editable = set(
                editable_strategies(user).filter(pk__in=ids).values_list("pk", flat=True)
            )
            self.readable = set(
                readable_strategies(user).filter(pk__in=ids).values_list("pk", flat=True)
            )
        self.members: dict[int, dict[str, Any]] = {pk: {} for pk in ids}
        self.lock_reasons: dict[tuple[int, int], str | None] = {}
        memberships = StrategyAssociation.objects.filter(strategy_id__in=ids).select_related(
            "association"
        )
        for membership in memberships:
            self._add_member(membership.strategy_id, membership.association)
        names = {cell_text(c["association"]) for c in cells}
        self.known_associations = {
            normalize_name(name)
            for row in Association.objects.filter(
                Q(slug__in={n.casefold() for n in names}) | Q(short_name__in=names)
            ).values_list("slug", "short_name", "name")
            for name in row
        }

    def _add_member(self, strategy_id: int, association) -> None:
        by_name = self.members[strategy_id]
        by_name[association.slug] = association
        for name in (association.short_name, association.name):
            key = normalize_name(name)
            if key in by_name and by_name[key] is not association and key != association.slug:
                by_name[key] = None  # two associations share the name: the slug must be given
            else:
                by_name.setdefault(key, association)


@dataclass(frozen=True)
class _Key:
    strategy: FundingStrategy
    year: int
    association: Any
    category: BudgetCategory

    def ids(self) -> tuple:
        return (self.strategy.pk, self.association.pk, self.year, self.category.value)

    def describe(self) -> str:
        label = CATEGORY_EXCHANGE_LABELS[self.category]
        return f"{self.association.short_name} {self.year}: {label}"


def _read_key(cells: _Cells, row: RowPlan, lookups: _Lookups) -> _Key | None:
    """Strategy, year, association and category of a row; None when any is wrong."""
    strategy = _read_strategy(cells["strategy"], row, lookups)
    year = _attempt(row, "year", parse_year, cells["year"])
    category = _attempt(row, "category", parse_category, cells["category"])
    association = None
    if strategy is not None:
        if year is not None and year not in strategy.years:
            cell = cells["year"]
            row.fail(
                "year",
                cell.error(
                    _(
                        "Line %(line)d, column “%(column)s”: the year %(value)s lies outside "
                        "the period %(start)d–%(end)d of the strategy “%(strategy)s”."
                    ),
                    start=strategy.start_year,
                    end=strategy.end_year,
                    strategy=strategy.slug,
                ),
            )
            year = None
        association = _read_association(cells["association"], strategy, row, lookups)
    elif is_blank(cells["association"].value):
        row.fail("association", _empty(cells["association"]))
    if None in (strategy, year, association, category):
        return None
    return _Key(strategy, year, association, category)


def _attempt(row: RowPlan, name: str, parse, cell: Cell):
    """Parse a cell, recording its problem on the row; None when it fails."""
    try:
        return parse(cell)
    except CellError as error:
        row.fail(name, error)
        return None


def _read_strategy(cell: Cell, row: RowPlan, lookups: _Lookups) -> FundingStrategy | None:
    if is_blank(cell.value):
        row.fail("strategy", _empty(cell))
        return None
    strategy = lookups.strategies.get(cell_text(cell).casefold())
    # One the user may not read is refused as one that does not exist: the file must not
    # tell which strategies exist.
    if strategy is None or strategy.pk not in lookups.readable:
        row.fail(
            "strategy",
            cell.error(
                _(
                    "Line %(line)d, column “%(column)s”: there is no strategy “%(value)s” "
                    "that you may edit."
                )
            ),
        )
        return None
    if strategy.pk not in lookups.editable:
        row.fail(
            "strategy",
            cell.error(
                _("Line %(line)d, column “%(column)s”: you may not edit the strategy “%(value)s”.")
            ),
        )
        return None
    return strategy


def _read_association(cell: Cell, strategy, row: RowPlan, lookups: _Lookups):
    if is_blank(cell.value):
        row.fail("association", _empty(cell))
        return None
    name = normalize_name(cell_text(cell))
    members = lookups.members[strategy.pk]
    if name in members and members[name] is not None:
        return members[name]
    if name in members:
        message = _(
            "Line %(line)d, column “%(column)s”: several associations of the strategy "
            "“%(strategy)s” are called “%(value)s”; give the slug."
        )
    elif name in lookups.known_associations:
        message = _(
            "Line %(line)d, column “%(column)s”: the association “%(value)s” is not part of "
            "the strategy “%(strategy)s”."
        )
    else:
        message = _(
            "Line %(line)d, column “%(column)s”: there is no association “%(value)s”; "
            "give its slug or short name."
        )
    row.fail("association", cell.error(message, strategy=strategy.slug))
    return None


def _plan_rows(dataset, columns, *, user, as_system, lookups=None):
    header, raw_rows = _data_rows(dataset, columns)
    all_cells = [_Cells(header, number, values) for number, values in enumerate(raw_rows, 2)]
    lookups = (lookups or _Lookups)(
        [c for c in all_cells if not all(is_blank(v) for v in c.values)],
        user=user,
        as_system=as_system,
    )
    return header, all_cells, lookups


def _rows_to_plan(all_cells, plan: "ImportPlan"):
    """Each non-blank row with its new RowPlan; blank rows are planned as blank and skipped."""
    for cells in all_cells:
        row = RowPlan(cells.line)
        plan.rows.append(row)
        if all(is_blank(v) for v in cells.values):
            row.blank = True
            continue
        yield cells, row


def plan_line_import(dataset: tablib.Dataset, *, user=None, as_system=False) -> ImportPlan:
    """Check a file of budget lines and say what each row does; nothing is written.

    A row creates the line of its key, updates its amount and note, or leaves it unchanged.
    A line that has items keeps its amount: the items must add up to it.
    """
    header, all_cells, lookups = _plan_rows(dataset, LINE_COLUMNS, user=user, as_system=as_system)
    existing = _existing_lines(lookups)
    items_totals = _items_totals(existing.values())
    plan = ImportPlan(header, [])
    first_line_of: dict[tuple, int] = {}
    for cells, row in _rows_to_plan(all_cells, plan):
        key = _read_key(cells, row, lookups)
        amount = _attempt(row, "amount", parse_amount, cells["amount"])
        note = _attempt(row, "note", parse_text, cells["note"]) if cells.has("note") else None
        if key is None:
            continue
        if _repeated(key.ids(), row, first_line_of, key):
            continue
        if _locked(row, key.strategy, key.year, lookups):
            continue
        line = existing.get(key.ids())
        row.values = {
            "strategy": key.strategy,
            "association": key.association,
            "year": key.year,
            "category": key.category.value,
        }
        if amount is not None:
            row.values["amount"] = amount
        if note is not None:
            row.values["note"] = note
        if line is not None:
            _check_line_with_items(cells, row, line, amount, items_totals)
            row.instance = line
            row.unchanged = line.amount == amount and (note is None or line.note == note)
        elif note is None:
            row.values["note"] = ""
    return plan


def _locked(row: RowPlan, strategy: FundingStrategy, year: int, lookups: _Lookups) -> bool:
    """Refuse a row of a year that may not change now (FundingStrategy.lock_reason)."""
    ids = (strategy.pk, year)
    if ids not in lookups.lock_reasons:
        lookups.lock_reasons[ids] = strategy.lock_reason(year=year)
    reason = lookups.lock_reasons[ids]
    if reason:
        row.fail(
            NON_FIELD_ERRORS, _("Line %(line)d: %(reason)s") % {"line": row.line, "reason": reason}
        )
    return bool(reason)


def _repeated(ids: tuple, row: RowPlan, first_line_of: dict, key: _Key) -> bool:
    """Record a row's key; report it when an earlier row of the file has the same key."""
    if ids not in first_line_of:
        first_line_of[ids] = row.line
        return False
    row.fail(
        NON_FIELD_ERRORS,
        _(
            "Line %(line)d repeats line %(first)d: the association “%(association)s” has a line "
            "of category “%(category)s” in year %(year)d twice in the file."
        )
        % {
            "line": row.line,
            "first": first_line_of[ids],
            "association": key.association.short_name,
            "category": CATEGORY_EXCHANGE_LABELS[key.category],
            "year": key.year,
        },
    )
    return True


def _existing_lines(lookups: _Lookups) -> dict[tuple, BudgetLine]:
    """The lines of the file's strategies by key, with their strategy and association set."""
    strategies = {s.pk: s for s in lookups.strategies.values()}
    associations = {
        a.pk: a for members in lookups.members.values() for a in members.values() if a is not None
    }
    lines = {}
    for line in BudgetLine.objects.filter(strategy_id__in=strategies):
        # Shared objects instead of one query per row when the row is shown or compared.
        line.strategy = strategies[line.strategy_id]
        if line.association_id in associations:
            line.association = associations[line.association_id]
        lines[(line.strategy_id, line.association_id, line.year, line.category)] = line
    return lines


def _items_totals(lines) -> dict[int, Decimal]:
    amounts: dict[int, list[Decimal]] = {}
    ids = [line.pk for line in lines]
    for line_id, amount in BudgetItem.objects.filter(line_id__in=ids).values_list(
        "line_id", "amount"
    ):
        amounts.setdefault(line_id, []).append(amount)
    return {line_id: decimal_sum(values) for line_id, values in amounts.items()}


def _check_line_with_items(cells, row, line, amount, items_totals) -> None:
    items_total = items_totals.get(line.pk)
    if items_total is None or BudgetLine.items_error(amount, [items_total]) is None:
        return
    row.fail(
        "amount",
        cells["amount"].error(
            _(
                "Line %(line)d, column “%(column)s”: the budget line has items that add up to "
                "%(items)s, so its amount cannot become %(value)s; change the line together "
                "with its items."
            ),
            items=money(items_total),
        ),
    )


def plan_item_import(dataset: tablib.Dataset, *, user=None, as_system=False) -> ImportPlan:
    """Check a file of budget items and say what each row does; nothing is written.

    The rows of one budget line are all its items, in order: an item whose description the
    line already has is updated (or left unchanged), others are created, and the line's items
    the file does not give are removed. The items must add up to the line's amount.
    """
    header, all_cells, lookups = _plan_rows(dataset, ITEM_COLUMNS, user=user, as_system=as_system)
    existing_lines = _existing_lines(lookups)
    plan = ImportPlan(header, [])
    rows_by_line: dict[int, list[tuple[RowPlan, _Cells]]] = {}
    for cells, row in _rows_to_plan(all_cells, plan):
        key = _read_key(cells, row, lookups)
        values = _item_values(cells, row)
        if key is None:
            continue
        line = existing_lines.get(key.ids())
        if line is None:
            row.fail(NON_FIELD_ERRORS, _no_line_message(row.line, key))
            continue
        if _locked(row, key.strategy, key.year, lookups):
            continue
        row.values = values
        rows_by_line.setdefault(line.pk, []).append((row, cells))
    lines_by_id = {line.pk: line for line in existing_lines.values()}
    items_by_line = _items_by_line(rows_by_line)
    for line_id, line_rows in rows_by_line.items():
        line = lines_by_id[line_id]
        plan.touched_lines.append(line)
        _plan_line_items(line, line_rows, items_by_line.get(line_id, []), plan)
    return plan


def _item_values(cells: _Cells, row: RowPlan) -> dict[str, Any]:
    """An item's values; an optional column the file leaves out keeps the stored value."""
    values = {
        "description": _attempt(row, "description", _parse_description, cells["description"]),
        "amount": _attempt(row, "amount", parse_amount, cells["amount"]),
    }
    for name, parse in (("pay_grade", parse_pay_grade), ("share_percent", parse_share)):
        if cells.has(name):
            values[name] = _attempt(row, name, parse, cells[name])
    return values


def _parse_description(cell: Cell) -> str:
    return parse_text(cell, max_length=300, required=True)


def _no_line_message(line_number: int, key: _Key) -> str:
    return _(
        "Line %(line)d: the strategy “%(strategy)s” has no budget line of category "
        "“%(category)s” for the association “%(association)s” in year %(year)d; "
        "import the lines first."
    ) % {
        "line": line_number,
        "strategy": key.strategy.slug,
        "category": CATEGORY_EXCHANGE_LABELS[key.category],
        "association": key.association.short_name,
        "year": key.year,
    }


def _items_by_line(rows_by_line: dict) -> dict[int, list[BudgetItem]]:
    items: dict[int, list[BudgetItem]] = {}
    for item in BudgetItem.objects.filter(line_id__in=rows_by_line).order_by("position", "id"):
        items.setdefault(item.line_id, []).append(item)
    return items


def _plan_line_items(line: BudgetLine, line_rows: list, existing: list, plan: ImportPlan):
    """Match one line's rows to its items, find items to remove, check the sum."""
    unmatched = list(existing)
    first_line_of: dict[str, int] = {}
    for position, (row, cells) in enumerate(line_rows):
        description = row.values["description"]
        if description is None:
            continue
        if description in first_line_of:
            row.fail(
                NON_FIELD_ERRORS,
                cells["description"].error(
                    _(
                        "Line %(line)d repeats line %(first)d: the position “%(value)s” "
                        "appears twice in the same budget line."
                    ),
                    first=first_line_of[description],
                ),
            )
            continue
        first_line_of[description] = row.line
        row.values = {"line": line, "position": position, **row.values}
        item = next((i for i in unmatched if i.description == description), None)
        if item is not None:
            unmatched.remove(item)
            item.line = line
            row.instance = item
            row.unchanged = all(getattr(item, k) == v for k, v in row.values.items())
    plan.stale_items.extend(unmatched)
    _check_items_add_up(line, line_rows)


def _check_items_add_up(line: BudgetLine, line_rows: list) -> None:
    """The file's items of a line must add up to its amount; checked when all rows are valid."""
    rows = [row for row, _cells in line_rows]
    if any(row.problems for row in rows):
        return
    amounts = [row.values["amount"] for row in rows]
    if BudgetLine.items_error(line.amount, amounts) is None:
        return
    total = decimal_sum(amounts)
    first_row, first_cells = line_rows[0]
    first_row.fail(
        "amount",
        _(
            "Line %(line)d, column “%(column)s”: the items of the budget line “%(budget_line)s” "
            "(lines %(lines)s of the file) add up to %(items)s, but the line's amount is "
            "%(amount)s; the file must give all items of the line, adding up to its amount."
        )
        % {
            "line": first_row.line,
            "column": first_cells["amount"].column,
            "budget_line": f"{line.association.short_name} {line.year}: {line.exchange_category}",
            "lines": ", ".join(str(row.line) for row in rows),
            "items": money(total),
            "amount": money(line.amount),
        },
    )


# --- Allocations ---------------------------------------------------------------------------


class _AllocationLookups:
    """Municipalities, their budget items, allocations and reallocations, for the whole file."""

    def __init__(self, cells: list[_Cells], *, user, as_system: bool):
        municipalities = list(Municipality.objects.all())
        if as_system:
            self.editable = self.readable = {m.pk for m in municipalities}
        elif user is None:
            raise ValueError("An import needs the importing user, or as_system=True.")
        else:
            self.editable = set(editable_municipalities(user).values_list("pk", flat=True))
            self.readable = set(readable_municipalities(user).values_list("pk", flat=True))
        self.municipalities: dict[str, Municipality | None] = {}
        for municipality in municipalities:
            self.municipalities[normalize_name(municipality.slug)] = municipality
        for municipality in municipalities:
            for name in (municipality.short_name, municipality.name):
                key = normalize_name(name)
                known = self.municipalities.get(key, municipality)
                # Two municipalities of one name: the slug must be given.
                self.municipalities[key] = municipality if known is municipality else None
        named = {
            m.pk
            for c in cells
            if (m := self.municipalities.get(_municipality_key(c["municipality"]))) is not None
        }
        items = list(MunicipalBudgetItem.objects.filter(municipality_id__in=named))
        by_id = {m.pk: m for m in municipalities}
        self.items: dict[tuple, list[MunicipalBudgetItem]] = {}
        for item in items:
            item.municipality = by_id[item.municipality_id]
            place = (item.municipality_id, item.year)
            self.items.setdefault((*place, "name", normalize_name(item.name)), []).append(item)
            if item.code.strip():
                self.items.setdefault((*place, "code", item.code.strip().casefold()), []).append(
                    item
                )
        self.allocations: dict[int, list[Allocation]] = {item.pk: [] for item in items}
        for allocation in Allocation.objects.filter(item__in=items).order_by("position", "id"):
            self.allocations[allocation.item_id].append(allocation)
        self.moved_in: dict[int, list[Decimal]] = {}
        self.moved_out: dict[int, list[Decimal]] = {}
        for source, target, amount in Reallocation.objects.filter(
            Q(source__in=items) | Q(target__in=items)
        ).values_list("source_id", "target_id", "amount"):
            self.moved_out.setdefault(source, []).append(amount)
            self.moved_in.setdefault(target, []).append(amount)

    def available(self, item: MunicipalBudgetItem) -> Decimal:
        """The adopted amount plus reallocations in, minus reallocations out."""
        return (
            item.adopted_amount
            + decimal_sum(self.moved_in.get(item.pk, []))
            - decimal_sum(self.moved_out.get(item.pk, []))
        )


def _municipality_key(cell: Cell) -> str:
    return normalize_name(cell_text(cell))


def plan_allocation_import(dataset: tablib.Dataset, *, user=None, as_system=False) -> ImportPlan:
    """Check a file of allocations and say what each row does; nothing is written.

    A row creates the allocation of its budget item and recipient, updates its amounts, or
    leaves it unchanged; the item's other allocations stay. An item whose realised allocations
    would exceed the money available is refused.
    """
    header, all_cells, lookups = _plan_rows(
        dataset, ALLOCATION_COLUMNS, user=user, as_system=as_system, lookups=_AllocationLookups
    )
    plan = ImportPlan(header, [])
    first_line_of: dict[tuple, int] = {}
    rows_by_item: dict[int, list[tuple[RowPlan, _Cells]]] = {}
    items: dict[int, MunicipalBudgetItem] = {}
    next_position = {
        pk: max((a.position for a in allocations), default=-1) + 1
        for pk, allocations in lookups.allocations.items()
    }
    for cells, row in _rows_to_plan(all_cells, plan):
        item = _read_budget_item(cells, row, lookups)
        recipient = _attempt(row, "recipient", _parse_recipient, cells["recipient"])
        values = _allocation_amounts(cells, row)
        if item is None or recipient is None:
            continue
        key = (item.pk, normalize_name(recipient))
        if key in first_line_of:
            row.fail(
                NON_FIELD_ERRORS,
                cells["recipient"].error(
                    _(
                        "Line %(line)d repeats line %(first)d: the budget item “%(item)s” has "
                        "the recipient “%(value)s” twice in the file."
                    ),
                    first=first_line_of[key],
                    item=item,
                ),
            )
            continue
        first_line_of[key] = row.line
        items[item.pk] = item
        rows_by_item.setdefault(item.pk, []).append((row, cells))
        row.values = {"item": item, "recipient": recipient, **values}
        _match_allocation(row, cells, lookups.allocations[item.pk], next_position)
        if not row.unchanged and (reason := lock_reason(item)):
            row.fail(
                "item",
                cells["item"].error(
                    _("Line %(line)d, column “%(column)s”: %(problems)s"), problems=reason
                ),
            )
    for item_id, item_rows in rows_by_item.items():
        _check_available(items[item_id], item_rows, lookups)
    return plan


def _read_budget_item(cells: _Cells, row: RowPlan, lookups: _AllocationLookups):
    """The budget item of a row, by name or code within its municipality and year."""
    municipality = _read_municipality(cells["municipality"], row, lookups)
    year = _attempt(row, "year", parse_year, cells["year"])
    cell = cells["item"]
    name = _attempt(row, "item", _parse_required_text, cell)
    if None in (municipality, year, name):
        return None
    place = (municipality.pk, year)
    found = lookups.items.get((*place, "name", normalize_name(name))) or lookups.items.get(
        (*place, "code", name.casefold()), []
    )
    if len(found) == 1:
        return found[0]
    if found:
        message = _(
            "Line %(line)d, column “%(column)s”: several budget items of the municipality "
            "“%(municipality)s” in year %(year)d have the code “%(value)s”; give the item's name."
        )
    else:
        message = _(
            "Line %(line)d, column “%(column)s”: the municipality “%(municipality)s” has no "
            "budget item “%(value)s” in year %(year)d; create the budget item first."
        )
    row.fail("item", cell.error(message, municipality=municipality.short_name, year=year))
    return None


def _read_municipality(cell: Cell, row: RowPlan, lookups: _AllocationLookups):
    if is_blank(cell.value):
        row.fail("municipality", _empty(cell))
        return None
    key = _municipality_key(cell)
    municipality = lookups.municipalities.get(key)
    if municipality is None and key in lookups.municipalities:
        message = _(
            "Line %(line)d, column “%(column)s”: several municipalities are called "
            "“%(value)s”; give the slug."
        )
        row.fail("municipality", cell.error(message))
        return None
    # One whose allocations the user may not read is refused as one that does not exist.
    if municipality is None or municipality.pk not in lookups.readable:
        message = _(
            "Line %(line)d, column “%(column)s”: there is no municipality “%(value)s” whose "
            "allocations you may change; give its slug or short name."
        )
        row.fail("municipality", cell.error(message))
        return None
    if municipality.pk not in lookups.editable:
        row.fail(
            "municipality",
            cell.error(
                _(
                    "Line %(line)d, column “%(column)s”: you may not change the allocations "
                    "of the municipality “%(value)s”."
                )
            ),
        )
        return None
    return municipality


def _parse_required_text(cell: Cell) -> str:
    return parse_text(cell, required=True)


def _parse_recipient(cell: Cell) -> str:
    return parse_text(cell, max_length=300, required=True)


def _allocation_amounts(cells: _Cells, row: RowPlan) -> dict[str, Any]:
    """The realised amount and, when the file has the column, the planned one (may be empty)."""
    values = {
        "realised_amount": _attempt(row, "realised_amount", parse_amount, cells["realised_amount"])
    }
    if cells.has("planned_amount"):
        cell = cells["planned_amount"]
        values["planned_amount"] = (
            None if is_blank(cell.value) else _attempt(row, "planned_amount", parse_amount, cell)
        )
    return values


def _match_allocation(row: RowPlan, cells: _Cells, existing: list, next_position: dict) -> None:
    """The stored allocation the row updates, or the position of a new one."""
    item = row.values["item"]
    name = normalize_name(row.values["recipient"])
    matches = [a for a in existing if normalize_name(a.recipient) == name]
    if len(matches) > 1:
        row.fail(
            "recipient",
            cells["recipient"].error(
                _(
                    "Line %(line)d, column “%(column)s”: the budget item “%(item)s” already has "
                    "%(count)d allocations to “%(value)s”; merge them in the admin first."
                ),
                item=item,
                count=len(matches),
            ),
        )
    elif matches:
        allocation = matches[0]
        allocation.item = item
        row.instance = allocation
        row.unchanged = all(getattr(allocation, k) == v for k, v in row.values.items())
    else:
        row.values["position"] = next_position[item.pk]
        next_position[item.pk] += 1


def _check_available(item: MunicipalBudgetItem, item_rows: list, lookups) -> None:
    """The item's money rule for the whole file: realised money within the money available.

    Checked when the adopted amount is known, every row of the item is valid and the file
    changes something; the problem is reported on the row that takes the sum past the limit.
    """
    rows = [row for row, _cells in item_rows]
    if (
        item.adopted_amount is None
        or any(r.problems for r in rows)
        or all(r.unchanged for r in rows)
    ):
        return
    named = {row.instance.pk for row in rows if row.instance is not None}
    untouched = [a for a in lookups.allocations[item.pk] if a.pk not in named]
    amounts = [a.realised_amount for a in untouched]
    amounts += [row.values["realised_amount"] for row in rows]
    rule = item.money_error(
        spent=amounts,
        moved_out=lookups.moved_out.get(item.pk, []),
        moved_in=lookups.moved_in.get(item.pk, []),
    )
    if rule is None:  # MunicipalBudgetItem.money_error, the rule's home
        return
    available = lookups.available(item)
    running = decimal_sum(a.realised_amount for a in untouched)
    spent = decimal_sum(amounts)
    for row, cells in item_rows:
        running += row.values["realised_amount"]
        if running > available:
            row.fail(
                "realised_amount",
                cells["realised_amount"].error(
                    _(
                        "Line %(line)d, column “%(column)s”: with “%(value)s” the realised "
                        "allocations of the budget item “%(item)s” add up to %(spent)s EUR, "
                        "more than the %(available)s EUR available (adopted %(adopted)s EUR "
                        "plus or minus reallocations); record a reallocation first."
                    ),
                    item=item,
                    spent=money(spent),
                    available=money(available),
                    adopted=money(item.adopted_amount),
                ),
            )
            return


# --- Reading files -------------------------------------------------------------------------


def read_table(raw: bytes, file_name: str) -> tablib.Dataset:
    """A CSV or XLSX file as a dataset of its header and rows (cells as the file has them).

    XLSX is recognised by its content (a ZIP archive), so a misnamed file is still read
    correctly; anything else must be CSV in UTF-8 (with or without a byte-order mark),
    separated by ";" or ",".
    """
    if len(raw) > MAX_FILE_BYTES:
        raise ImportFileError([too_big_message(file_name, len(raw))])
    if not raw.strip():
        raise ImportFileError([_("The file %(file)s is empty.") % {"file": file_name}])
    if raw.startswith(b"PK\x03\x04") or file_name.lower().endswith(".xlsx"):
        return read_xlsx(raw, file_name)
    return read_csv(raw, file_name)


def too_big_message(file_name: str, size: int) -> str:
    return _(
        "The file %(file)s has %(size)d bytes; an import file may have at most %(max)d bytes."
    ) % {"file": file_name, "size": size, "max": MAX_FILE_BYTES}


def decode_csv(raw: bytes, file_name: str) -> str:
    """UTF-8 text (a byte-order mark is allowed); UTF-16 and binary data are refused."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_like_utf16(raw):
        raise ImportFileError(
            [
                _(
                    "The file %(file)s is UTF-16 text; save it as “CSV UTF-8” or as an Excel "
                    "workbook (.xlsx) and import it again."
                )
                % {"file": file_name}
            ]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if b"\x00" in raw:
            raise ImportFileError([_binary_message(file_name)]) from None
        raise ImportFileError(
            [
                _(
                    "The file %(file)s is not UTF-8 text (byte %(position)d); save it as "
                    "“CSV UTF-8” and import it again."
                )
                % {"file": file_name, "position": error.start}
            ]
        ) from None
    if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text):
        raise ImportFileError([_binary_message(file_name)])
    return text


def _looks_like_utf16(raw: bytes) -> bool:
    """UTF-16 without a byte-order mark: every other byte of Latin text is zero."""
    sample = raw[:2000]
    return len(sample) >= 4 and (
        sample[1::2].count(0) > len(sample) // 4 or sample[0::2].count(0) > len(sample) // 4
    )


def _binary_message(file_name: str) -> str:
    return _(
        "The file %(file)s is neither CSV text nor an Excel workbook (.xlsx); it holds binary data."
    ) % {"file": file_name}


def sniff_delimiter(text: str) -> str:
    """ ";" or ",": whichever splits the header line into more columns (";" on a tie)."""
    # The first line only: splitting the whole text would make a list of every line.
    first_line = _LINE_BREAK.split(text.lstrip("\r\n"), maxsplit=1)[0]
    counts = {
        delimiter: len(next(csv.reader([first_line], delimiter=delimiter), []))
        for delimiter in (";", ",")
    }
    return ";" if counts[";"] >= counts[","] else ","


# Where str.splitlines() breaks a line.
_LINE_BREAK = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def read_csv(raw: bytes, file_name: str) -> tablib.Dataset:
    """A CSV file's rows; blank lines stay (as empty rows) so that line numbers hold.

    Rows are read one at a time and checked against the limits as they come: a file of
    millions of blank lines is refused at the first line past the limit.
    """
    text = decode_csv(raw, file_name)
    if not text.strip():
        raise ImportFileError([_("The file %(file)s is empty.") % {"file": file_name}])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    rows: list[list] = []
    try:
        for row in reader:
            line = len(rows) + 1
            _check_line(line)
            if len(row) > MAX_COLUMNS:
                raise ImportFileError([_too_wide_message(line)])
            for index, value in enumerate(row):
                _check_text(value, line, rows[0] if rows else None, index)
            rows.append(row)
    except csv.Error as error:
        # The csv module refuses a field over its own limit (131,072 characters) in these words.
        if "field limit" in str(error):
            raise ImportFileError(
                [
                    _(
                        "Line %(line)d: a cell holds more than %(max)d characters; a cell may "
                        "hold at most %(max)d."
                    )
                    % {"line": len(rows) + 1, "max": MAX_CELL_CHARS}
                ]
            ) from None
        raise ImportFileError([_binary_message(file_name)]) from None
    return _dataset(rows, file_name)


def read_xlsx(raw: bytes, file_name: str) -> tablib.Dataset:
    """The first sheet of a workbook; formulas give the values the spreadsheet computed.

    The archive's unpacked size and the sheet's declared dimension are checked before a cell
    is read; the rows are then streamed and checked as they come, because the dimension may
    lie or be missing.
    """
    _check_unpacked_size(raw, file_name)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception:
        raise ImportFileError([_unreadable_message(file_name)]) from None
    try:
        rows = _sheet_rows(workbook.worksheets[0])
    except ImportFileError:
        raise
    except Exception:
        # A damaged workbook fails deep inside zipfile, zlib or the XML parser, with any of a
        # dozen exception types (BadZipFile, zlib.error, ParseError, EOFError, KeyError…);
        # whichever it is, the file cannot be read, and nothing has been written yet.
        raise ImportFileError([_unreadable_message(file_name)]) from None
    finally:
        workbook.close()
    if not rows:
        raise ImportFileError([_("The file %(file)s is empty.") % {"file": file_name}])
    return _dataset(rows, file_name)


def _unreadable_message(file_name: str) -> str:
    return _("The file %(file)s is not a readable Excel workbook (.xlsx).") % {"file": file_name}


def _check_unpacked_size(raw: bytes, file_name: str) -> None:
    """Refuse a workbook whose parts unpack to more than the limit, before unpacking any."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            # Declared sizes bind: zipfile stops a part at its declared size (and then fails
            # its checksum), so a part cannot unpack to more than its entry says.
            size = sum(entry.file_size for entry in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise ImportFileError([_unreadable_message(file_name)]) from None
    if size > MAX_UNPACKED_BYTES:
        raise ImportFileError(
            [
                _(
                    "The workbook unpacks to %(size)d bytes; an import file may unpack to at "
                    "most %(max)d bytes."
                )
                % {"size": size, "max": MAX_UNPACKED_BYTES}
            ]
        )


def _sheet_rows(sheet) -> list[list]:
    """A read-only sheet's rows as lists of values, within the limits.

    openpyxl's own iteration pads every row to the declared width and fills every missing row
    up to the declared height (a cell at A1048576 makes a million rows; a declared
    A1:XFD1048576 makes 17 billion cells), so the rows are parsed here from the sheet's XML,
    with openpyxl's parser for each cell's value. Rows and cells are counted as they come and
    dropped from the XML tree once read.
    """
    _check_dimension(sheet.max_row, sheet.max_column)
    workbook = sheet.parent
    # The private parts are those openpyxl's read-only sheet passes its own parser (3.1).
    parser = WorkSheetParser(
        None,
        sheet._shared_strings,
        data_only=True,
        epoch=workbook.epoch,
        date_formats=workbook._date_formats,
        timedelta_formats=workbook._timedelta_formats,
    )
    rows: list[list] = []
    values: list = []
    sheet_data = None
    line = row_elements = 0
    with sheet._get_source() as source:
        for event, element in iterparse(source, events=("start", "end")):
            tag = element.tag
            if event == "start":
                if tag == _SHEET_DATA_TAG:
                    sheet_data = element
                elif tag == _ROW_TAG:
                    line = _row_number(element, line)
                    row_elements += 1
                    _check_line(max(line, row_elements))
                    parser.row_counter, parser.col_counter, values = line, 0, []
            elif tag == _CELL_TAG:
                _read_cell(parser, element, line, values, rows[0] if rows else None)
                element.clear()
            elif tag == _ROW_TAG:
                if line > len(rows):  # a row repeated or out of order is skipped, as openpyxl does
                    rows.extend([] for _blank in range(line - 1 - len(rows)))
                    rows.append(values)
                if sheet_data is not None:
                    sheet_data.clear()
            elif tag == _SHEET_DATA_TAG:
                break
    return rows


def _check_dimension(rows: int | None, columns: int | None) -> None:
    """Refuse a sheet whose <dimension> declares more rows or columns than an import may have."""
    problems = []
    if rows is not None and rows > MAX_ROWS + 1:
        problems.append(
            _(
                "The file declares %(rows)d rows; an import file may have at most %(max)d rows "
                "below its header."
            )
            % {"rows": rows, "max": MAX_ROWS}
        )
    if columns is not None and columns > MAX_COLUMNS:
        problems.append(
            _(
                "The file declares %(columns)d columns; an import file may have at most "
                "%(max)d columns."
            )
            % {"columns": columns, "max": MAX_COLUMNS}
        )
    if problems:
        raise ImportFileError(problems)


_SHEET_DATA_TAG = f"{{{SHEET_MAIN_NS}}}sheetData"
_ROW_TAG = f"{{{SHEET_MAIN_NS}}}row"
_CELL_TAG = f"{{{SHEET_MAIN_NS}}}c"
_FORMULA_TAG = f"{{{SHEET_MAIN_NS}}}f"
_VALUE_TAG = f"{{{SHEET_MAIN_NS}}}v"


def _row_number(element, previous: int) -> int:
    """A row's number: its r attribute (openpyxl accepts "3.0"), or the one after the last."""
    number = element.get("r")
    if number is None:
        return previous + 1
    number = float(number)
    if not number.is_integer():
        raise ValueError(number)
    return int(number)


def _read_cell(parser, element, line: int, values: list, header: list | None) -> None:
    """Put a cell's value into its row's list, refusing what the limits do not allow."""
    cell = parser.parse_cell(element)
    column = cell["column"]
    if column > MAX_COLUMNS or len(values) >= MAX_COLUMNS:
        raise ImportFileError([_too_wide_message(line)])
    if _formula_without_value(element):
        raise ImportFileError(
            [
                _(
                    "Line %(line)d, column “%(column)s” (cell %(cell)s): the cell holds a "
                    "formula without a computed value; open the file in Excel or LibreOffice, "
                    "save it and import it again."
                )
                % {
                    "line": line,
                    "column": _column_name(header, column - 1),
                    "cell": f"{get_column_letter(column)}{line}",
                }
            ]
        )
    _check_text(cell["value"], line, header, column - 1)
    values.extend([None] * (column - len(values)))
    values[column - 1] = cell["value"]


def _formula_without_value(element) -> bool:
    """A formula cell that no spreadsheet program computed (openpyxl writes them so).

    The computed value is the cell's <v>. Excel writes a formula computed to empty text as a
    string cell with an empty <v>; an empty <v> in a cell of any other type holds nothing.
    """
    if element.find(_FORMULA_TAG) is None:
        return False
    value = element.find(_VALUE_TAG)
    return value is None or (not value.text and element.get("t", "n") not in ("str", "s"))


def _check_line(line: int) -> None:
    """Refuse a line past the header and the most rows an import may have."""
    if line > MAX_ROWS + 1:
        raise ImportFileError(
            [
                _(
                    "The file has more than %(max)d rows; an import file may have at most "
                    "%(max)d rows below its header."
                )
                % {"max": MAX_ROWS}
            ]
        )


def _too_wide_message(line: int) -> str:
    return _(
        "Line %(line)d has more than %(max)d columns; an import file may have at most "
        "%(max)d columns."
    ) % {"line": line, "max": MAX_COLUMNS}


def _check_text(value: Any, line: int, header: list | None, index: int) -> None:
    """Refuse a text cell longer than a cell may be, naming its line and column."""
    if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
        raise ImportFileError(
            [
                _(
                    "Line %(line)d, column “%(column)s”: the cell holds %(length)d characters; "
                    "a cell may hold at most %(max)d."
                )
                % {
                    "line": line,
                    "column": _column_name(header, index),
                    "length": len(value),
                    "max": MAX_CELL_CHARS,
                }
            ]
        )


def _column_name(header: list | None, index: int) -> str:
    """A column as messages name it: its header, or its number when it has none."""
    name = header[index] if header is not None and index < len(header) else None
    if is_blank(name):
        return str(index + 1)
    return Cell(1, "", name).shown


def _dataset(rows: list[list], file_name: str) -> tablib.Dataset:
    """Rows of equal width under the header; extra non-empty cells are an error."""
    headers = list(rows[0])
    while headers and is_blank(headers[-1]):
        headers.pop()
    width = len(headers)
    problems, body = [], []
    for number, row in enumerate(rows[1:], start=2):
        extra = row[width:]
        if any(not is_blank(v) for v in extra):
            problems.append(
                _("Line %(line)d has %(count)d cells, but the header names only %(columns)d.")
                % {"line": number, "count": len(row), "columns": width}
            )
        body.append(list(row[:width]) + [""] * (width - len(row)))
    if problems:
        raise ImportFileError(problems)
    dataset = tablib.Dataset(headers=[("" if h is None else str(h)) for h in headers])
    if width:
        for row in body:
            dataset.append(row)
    return dataset


class SpreadsheetCSV(base_formats.CSV):
    """CSV as Slovenian spreadsheets write and read it, for the admin's import and export.

    Import: the rules of ``read_csv`` (";" or ",", UTF-8 with or without BOM, 5 MB at most).
    Export: ";"-separated UTF-8 with a byte-order mark, so that Excel opens it in columns.
    """

    def is_binary(self):
        # The raw bytes are needed to refuse UTF-16 and binary files with a clear message.
        return True

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, str):
            in_stream = in_stream.encode("utf-8")
        if len(in_stream) > MAX_FILE_BYTES:
            raise ImportFileError([too_big_message("", len(in_stream))])
        return read_csv(in_stream, "")

    def export_data(self, dataset, **kwargs):
        return "\ufeff" + dataset.export("csv", delimiter=";")


class SpreadsheetXLSX(base_formats.XLSX):
    """XLSX for the admin's import and export, read and written as the commands do.

    Import: the rules of ``read_xlsx`` (5 MB at most; a damaged workbook is refused in words,
    not by an exception's class name). Export: openpyxl refuses the control characters XML 1.0
    cannot carry, and django-import-export then fails the whole export; text holding one
    (typed or imported) is written with "�" instead.
    """

    def create_dataset(self, in_stream):
        if len(in_stream) > MAX_FILE_BYTES:
            raise ImportFileError([too_big_message("", len(in_stream))])
        return read_xlsx(in_stream, "")

    def export_data(self, dataset, **kwargs):
        clean = tablib.Dataset(
            *[[spreadsheet_character(value) for value in row] for row in dataset],
            headers=dataset.headers,
            title=dataset.title,
        )
        return super().export_data(clean, **kwargs)


class UploadStorage(TempFolderStorage):
    """Where an uploaded file waits in the temporary folder between the admin's preview and
    its confirmation.

    django-import-export names the file in a hidden field of the confirmation form, then opens,
    imports and deletes whatever file of the temporary folder the field names. This storage
    makes its files under a name of its own and opens no other, so a changed form can neither
    read nor delete another file.
    """

    prefix = "funding-import-"

    @classmethod
    def waiting(cls, name: str) -> bool:
        """Whether the name is one of this storage's files and the file is still there."""
        return bool(re.fullmatch(re.escape(cls.prefix) + r"\w+", name)) and os.path.isfile(
            os.path.join(tempfile.gettempdir(), name)
        )

    def _open(self, mode="r"):
        if not self.name:
            # Returned open, as the parent class does: the caller writes and closes it.
            handle = tempfile.NamedTemporaryFile(prefix=self.prefix, delete=False)  # noqa: SIM115
            self.name = os.path.basename(handle.name)
            return handle
        if not self.waiting(self.name):
            raise FileNotFoundError(self.name)
        return open(self.get_full_path(), mode, encoding=self.encoding)


def spreadsheet_character(value: Any) -> Any:
    """Text with the control characters an XLSX cell cannot hold shown as "�"."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", value)
    return value


def escape_formula(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value

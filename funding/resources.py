"""django-import-export resources for budget lines, items and allocations, for admin and commands.

The resources check the whole file before anything is written (``funding.imports``): every bad
row is reported with its line, column and value, and one bad row writes nothing — the import
always runs in a transaction that is rolled back on any problem, whatever the caller asks.
Rows are written in bulk, each with its history record where the model keeps history
(django-simple-history); a row that changes nothing is skipped, so importing the same file twice
changes nothing.

Who imports: pass ``user`` (to the constructor or to ``import_data``, as the admin does); the
user must be allowed to edit every strategy (for allocations: every municipality) the file
touches, and history records the user. A system import (``as_system=True``, a command without
``--user``) may write anything.
Who exports: ``user`` again; an export holds only the strategies (municipalities) the user reads.
"""

import functools
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import connections, router
from django.db.models import Case, IntegerField, OuterRef, Subquery, When
from import_export import fields, resources, widgets
from import_export.results import RowResult
from simple_history.utils import bulk_create_with_history

from funding.imports import (
    ALLOCATION_COLUMNS,
    ITEM_COLUMNS,
    LINE_COLUMNS,
    ImportFileError,
    ImportPlan,
    escape_formula,
    plan_allocation_import,
    plan_item_import,
    plan_line_import,
)
from funding.models import (
    CATEGORY_EXCHANGE_LABELS,
    Allocation,
    BudgetCategory,
    BudgetItem,
    BudgetLine,
    FundingStrategy,
    Municipality,
    StrategyAssociation,
)
from funding.permissions import readable_municipalities, readable_strategies
from programs.models import Association


class PlainNumberWidget(widgets.Widget):
    """Years and pay grades: digits only, never localised (2025, not 2.025)."""

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return None if kwargs.get("force_native_type") else ""
        return value if kwargs.get("force_native_type") else str(value)


class DecimalCommaWidget(widgets.Widget):
    """Amounts and percents: a number in XLSX; "1234,56" in text formats.

    A decimal comma without grouping is what Slovenian spreadsheets read as a number, and the
    importer reads it back unchanged.
    """

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return None if kwargs.get("force_native_type") else ""
        return value if kwargs.get("force_native_type") else f"{value:.2f}".replace(".", ",")


class CategoryWidget(widgets.Widget):
    """A category as its Slovenian label ("Stroški zaposlenih"), as the exchange format has it."""

    def render(self, value, obj=None, **kwargs):
        return CATEGORY_EXCHANGE_LABELS[BudgetCategory(value)] if value else ""


def _headers(columns) -> dict[str, str]:
    return {column.name: column.header for column in columns}


def _category_rank(lookup: str) -> Case:
    """Categories in the table's order, not alphabetically."""
    return Case(
        *[When(**{lookup: category}, then=rank) for rank, category in enumerate(BudgetCategory)],
        output_field=IntegerField(),
    )


def _association_rank(strategy: str, association: str) -> Subquery:
    """The association's place in its strategy's tables."""
    return Subquery(
        StrategyAssociation.objects.filter(
            strategy=OuterRef(strategy), association=OuterRef(association)
        ).values("position")[:1]
    )


class PlannedImportResource(resources.ModelResource):
    """Rows follow a plan made from the whole file before the first row is imported."""

    strategy_lookup = "strategy"  # how the exported model reaches its strategy

    class Meta:
        # All or nothing in one transaction; unchanged rows are skipped. The plan checks every
        # rule of the model's clean() for the whole file, so rows are not cleaned one by one.
        use_bulk = True
        use_transactions = True
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = False

    def __init__(self, user=None, as_system=False, **kwargs):
        super().__init__(**kwargs)
        self.user = user
        self.as_system = as_system
        self.plan: ImportPlan | None = None
        self.refusal: list[str] = []
        self.history_user = None
        self.change_reason = ""
        self._row = None

    # --- import ---------------------------------------------------------------------------

    # The function that checks a whole file and plans its rows (funding.imports).
    planner: Callable[..., ImportPlan]

    def make_plan(self, dataset, *, user, as_system) -> ImportPlan:
        return type(self).planner(dataset, user=user, as_system=as_system)

    def import_data(self, dataset, dry_run=False, raise_errors=False, **kwargs):
        """Import in one transaction, rolled back on any problem: all or nothing."""
        kwargs["use_transactions"] = True
        kwargs["rollback_on_validation_errors"] = True
        result = super().import_data(dataset, dry_run=dry_run, raise_errors=raise_errors, **kwargs)
        if self.plan is not None:
            # The library numbers data rows from 1; officers and our messages count the
            # file's lines as a spreadsheet shows them (the header is line 1).
            for invalid in result.invalid_rows:
                invalid.number = self.plan.rows[invalid.number - 1].line
        return result

    def before_import(self, dataset, **kwargs):
        user = kwargs.get("user") or self.user
        self.history_user = user if user is not None and user.is_authenticated else None
        file_name = kwargs.get("file_name") or ""
        self.change_reason = kwargs.get("change_reason") or f"import {file_name}".strip()
        self.plan, self.refusal = None, []
        try:
            self.plan = self.make_plan(dataset, user=user, as_system=self.as_system)
        except ImportFileError as error:
            self.refusal = error.problems
            raise
        # The library and the admin's preview address columns by these names.
        dataset.headers = self.plan.header.canonical()

    def import_row(self, row, instance_loader, **kwargs):
        planned = self.plan.rows[kwargs["row_number"] - 1] if self.plan else None
        if planned is None or planned.blank:
            return self._row_result(RowResult.IMPORT_TYPE_SKIP)
        if planned.problems:
            result = self._row_result(RowResult.IMPORT_TYPE_INVALID)
            result.validation_error = planned_error(planned)
            return result
        self._row = planned
        return super().import_row(row, instance_loader, **kwargs)

    def _row_result(self, import_type):
        result = self.get_row_result_class()()
        result.import_type = import_type
        return result

    def get_or_init_instance(self, instance_loader, row):
        if self._row.instance is not None:
            return self._row.instance, False
        return self.init_instance(row), True

    def import_instance(self, instance, row, **kwargs):
        for name, value in self._row.values.items():
            setattr(instance, name, value)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        return self._row.unchanged

    def may_write(self) -> bool:
        """Nothing is written unless every row of the file is valid."""
        return self.plan is not None and not self.plan.problems

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        try:
            if self.create_instances and self.may_write() and (using_transactions or not dry_run):
                self._create(self.create_instances, batch_size)
        except Exception as error:
            self.handle_import_error(result, error, raise_errors)
        finally:
            self.create_instances.clear()

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        try:
            if self.update_instances and self.may_write() and (using_transactions or not dry_run):
                self._update(self.update_instances)
        except Exception as error:
            self.handle_import_error(result, error, raise_errors)
        finally:
            self.update_instances.clear()

    def _create(self, instances, batch_size) -> None:
        model = self._meta.model
        if keeps_history(model):
            bulk_create_with_history(
                instances,
                model,
                batch_size=batch_size,
                default_user=self.history_user,
                default_change_reason=self.change_reason,
            )
        else:
            model.objects.bulk_create(instances, batch_size=batch_size)

    def _update(self, instances) -> None:
        model = self._meta.model
        names = self.get_bulk_update_fields()
        if is_versioned(model):
            for instance in instances:
                # What the model's save() does; a bulk update bypasses save().
                instance.version += 1
            names = [*names, "version"]
        update_rows(instances, names)
        if keeps_history(model):
            model.history.bulk_history_create(
                instances,
                update=True,
                default_user=self.history_user,
                default_change_reason=self.change_reason,
            )

    # --- export ---------------------------------------------------------------------------

    def filter_export(self, queryset, **kwargs):
        """Only what the exporting user may read."""
        if self.as_system:
            return queryset
        user = kwargs.get("user") or self.user
        if user is None:
            raise ValueError(f"{type(self).__name__} exports need user= or as_system=True.")
        return self.readable(queryset, user)

    def readable(self, queryset, user):
        """The rows of the strategies the user may read."""
        return queryset.filter(**{f"{self.strategy_lookup}__in": readable_strategies(user)})

    def export_field(self, field, instance, **kwargs):
        # Against formula injection, in CSV and XLSX alike: a note "=HYPERLINK(…)" stays text.
        return escape_formula(super().export_field(field, instance, **kwargs))


def keeps_history(model) -> bool:
    """Whether django-simple-history records the model's changes."""
    return hasattr(model._meta, "simple_history_manager_attribute")


def is_versioned(model) -> bool:
    """Whether the model has the optimistic-lock ``version`` that every save raises."""
    return any(f.name == "version" for f in model._meta.concrete_fields)


def update_rows(instances, field_names: list[str]) -> None:
    """Write some fields of saved instances: one prepared UPDATE executed for all rows.

    Django's ``bulk_update`` builds a CASE expression per field and row; for 10,000 lines that
    took 13 of 15 seconds, where one statement executed many times takes under one.
    """
    model = type(instances[0])
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    model_fields = [model._meta.get_field(name) for name in field_names]
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in model_fields)
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {assignments} "
        f"WHERE {quote(model._meta.pk.column)} = %s"
    )
    params = [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in model_fields] + [obj.pk]
        for obj in instances
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


@functools.cache
def without_preview(resource_class):
    """The resource without the admin preview's per-row diff, which a command never shows.

    The diff copies and renders every row (a third of a 10,000-row import); the rules and the
    writes are the resource's own.
    """
    meta = type("Meta", (resource_class.Meta,), {"skip_diff": True})
    return type(resource_class.__name__, (resource_class,), {"Meta": meta, "__module__": __name__})


def planned_error(planned) -> ValidationError:
    """A row's problems as the library reports them: by column, and for the row as a whole."""
    return ValidationError(planned.problems)


_LINE = _headers(LINE_COLUMNS)
_ITEM = _headers(ITEM_COLUMNS)
_ALLOCATION = _headers(ALLOCATION_COLUMNS)


class BudgetLineResource(PlannedImportResource):
    """Budget lines: strategija, leto, društvo, kategorija, opis, znesek."""

    strategy = fields.Field(
        attribute="strategy",
        column_name=_LINE["strategy"],
        widget=widgets.ForeignKeyWidget(FundingStrategy, field="slug"),
    )
    year = fields.Field(attribute="year", column_name=_LINE["year"], widget=PlainNumberWidget())
    association = fields.Field(
        attribute="association",
        column_name=_LINE["association"],
        widget=widgets.ForeignKeyWidget(Association, field="slug"),
    )
    category = fields.Field(
        attribute="category", column_name=_LINE["category"], widget=CategoryWidget()
    )
    note = fields.Field(attribute="note", column_name=_LINE["note"])
    amount = fields.Field(
        attribute="amount", column_name=_LINE["amount"], widget=DecimalCommaWidget()
    )

    class Meta:
        model = BudgetLine
        fields = ("strategy", "year", "association", "category", "note", "amount")
        import_id_fields = ("strategy", "year", "association", "category")

    planner = plan_line_import

    def get_bulk_update_fields(self):
        return ["amount", "note"]

    def get_queryset(self):
        return (
            BudgetLine.objects.select_related("strategy", "association")
            .annotate(association_rank=_association_rank("strategy", "association"))
            .order_by("strategy__slug", "year", "association_rank", _category_rank("category"))
        )


class BudgetItemResource(PlannedImportResource):
    """Budget items: the line's key, then delovno mesto, plačni razred, delež (%), znesek."""

    strategy_lookup = "line__strategy"

    strategy = fields.Field(
        attribute="line__strategy",
        column_name=_ITEM["strategy"],
        widget=widgets.ForeignKeyWidget(FundingStrategy, field="slug"),
    )
    year = fields.Field(
        attribute="line__year", column_name=_ITEM["year"], widget=PlainNumberWidget()
    )
    association = fields.Field(
        attribute="line__association",
        column_name=_ITEM["association"],
        widget=widgets.ForeignKeyWidget(Association, field="slug"),
    )
    category = fields.Field(
        attribute="line__category", column_name=_ITEM["category"], widget=CategoryWidget()
    )
    description = fields.Field(attribute="description", column_name=_ITEM["description"])
    pay_grade = fields.Field(
        attribute="pay_grade", column_name=_ITEM["pay_grade"], widget=PlainNumberWidget()
    )
    share_percent = fields.Field(
        attribute="share_percent",
        column_name=_ITEM["share_percent"],
        widget=DecimalCommaWidget(),
    )
    amount = fields.Field(
        attribute="amount", column_name=_ITEM["amount"], widget=DecimalCommaWidget()
    )

    class Meta:
        model = BudgetItem
        fields = (
            "strategy",
            "year",
            "association",
            "category",
            "description",
            "pay_grade",
            "share_percent",
            "amount",
        )
        import_id_fields = ("strategy", "year", "association", "category", "description")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.removed_items = 0

    planner = plan_item_import

    def get_bulk_update_fields(self):
        return ["position", "description", "pay_grade", "share_percent", "amount"]

    def after_import(self, dataset, result, **kwargs):
        """Remove the items the file left out, then prove that every touched line adds up."""
        if self.may_write() and not result.has_errors():
            self.removed_items = self._remove_stale_items()
            self._assert_lines_add_up()
        super().after_import(dataset, result, **kwargs)

    def _remove_stale_items(self) -> int:
        for item in self.plan.stale_items:
            # One by one, so that each removal gets its history record with user and reason.
            item._history_user = self.history_user
            item._change_reason = self.change_reason
            # The plan checked the line's items as one set (BudgetLine.items_error).
            item.checked_as_a_set = True
            item.delete()
        return len(self.plan.stale_items)

    def _assert_lines_add_up(self) -> None:
        """A last check after writing; the plan already refused files whose items differ."""
        for line in self.plan.touched_lines:
            amounts = line.items.values_list("amount", flat=True)
            if BudgetLine.items_error(line.amount, amounts) is not None:
                raise AssertionError(f"{line}: its items do not add up to {line.amount}")

    def get_queryset(self):
        return (
            BudgetItem.objects.select_related("line__strategy", "line__association")
            .annotate(association_rank=_association_rank("line__strategy", "line__association"))
            .order_by(
                "line__strategy__slug",
                "line__year",
                "association_rank",
                _category_rank("line__category"),
                "position",
                "id",
            )
        )


class AllocationResource(PlannedImportResource):
    """Allocations: občina, leto, postavka, prejemnik, načrtovano, realizirano.

    The budget item is exported by its name, which is unique within municipality and year.
    """

    municipality = fields.Field(
        attribute="item__municipality",
        column_name=_ALLOCATION["municipality"],
        widget=widgets.ForeignKeyWidget(Municipality, field="slug"),
    )
    year = fields.Field(
        attribute="item__year", column_name=_ALLOCATION["year"], widget=PlainNumberWidget()
    )
    item = fields.Field(attribute="item__name", column_name=_ALLOCATION["item"])
    recipient = fields.Field(attribute="recipient", column_name=_ALLOCATION["recipient"])
    planned_amount = fields.Field(
        attribute="planned_amount",
        column_name=_ALLOCATION["planned_amount"],
        widget=DecimalCommaWidget(),
    )
    realised_amount = fields.Field(
        attribute="realised_amount",
        column_name=_ALLOCATION["realised_amount"],
        widget=DecimalCommaWidget(),
    )

    class Meta:
        model = Allocation
        fields = ("municipality", "year", "item", "recipient", "planned_amount", "realised_amount")
        import_id_fields = ("municipality", "year", "item", "recipient")

    planner = plan_allocation_import

    def get_bulk_update_fields(self):
        return ["recipient", "planned_amount", "realised_amount"]

    def readable(self, queryset, user):
        """The allocations of the municipalities the user may read."""
        return queryset.filter(item__municipality__in=readable_municipalities(user))

    def get_queryset(self):
        return Allocation.objects.select_related("item__municipality").order_by(
            "item__municipality__slug", "item__year", "item__code", "item__name", "position", "id"
        )

"""URL parameters of the admin's lists, exports and add forms, checked before a query is built.

Django's admin turns any ``?field__lookup=value`` of the address into a filter and catches only
the errors raised while the filter is *built*; those raised when the database *runs* it (a
broken regular expression, year 0 or 99999, a date PostgreSQL cannot hold) were server errors,
and so were the same parameters on django-import-export's export page and an add form's
initial values (``?strategy=abc``). ``SafeParametersMixin`` checks every parameter against the
type of the field it names — the field's own ``to_python``, the range of its column, years
1–9999 — and answers a bad one as the admin answers a lookup it cannot build: a redirect to the
list with ``?e=1``, here with a message naming the parameter and its value. Regular
expressions are refused outright: the admin never writes them, PostgreSQL and Python read them
differently, and on SQLite a pathological one runs in the server's process.

The project's admin site (``config.admin_site``) mixes this into every registered admin, the
libraries' ones included, so a new admin is covered without anyone remembering to.
"""

import decimal
from datetime import UTC, date, datetime

from django.contrib import messages
from django.contrib.admin import SimpleListFilter
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG, IGNORED_PARAMS, PAGE_VAR
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import DatabaseError, connection, models, transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

# Parts of a lookup that turn a date or time into a number, with the numbers that make sense.
DATE_PARTS = {
    "year": (1, 9999),
    "iso_year": (1, 9999),
    "quarter": (1, 4),
    "month": (1, 12),
    "week": (1, 53),
    "day": (1, 31),
    "week_day": (1, 7),
    "iso_week_day": (1, 7),
    "hour": (0, 23),
    "minute": (0, 59),
    "second": (0, 59),
}
REGEX_LOOKUPS = {"regex", "iregex"}
# Lookups that compare text with text, whatever the field: any text is a valid value.
TEXT_LOOKUPS = {
    "iexact",
    "contains",
    "icontains",
    "startswith",
    "istartswith",
    "endswith",
    "iendswith",
}
# Parameters of the admin's pages that are not filters.
NOT_FILTERS = {*IGNORED_PARAMS, ERROR_FLAG, PAGE_VAR, "_changelist_filters"}
# A value longer than this is no filter anyone typed; it is quoted shortened in messages.
QUOTED_LENGTH = 60


class BadParameter(Exception):
    """A URL parameter that cannot be a value of the field it names."""

    def __init__(self, name: str, value: str, reason: str):
        self.name, self.value, self.reason = name, value, reason
        super().__init__(self.message)

    @property
    def message(self) -> str:
        value = self.value if len(self.value) <= QUOTED_LENGTH else self.value[:QUOTED_LENGTH] + "…"
        return _("The filter “%(name)s” cannot take the value “%(value)s”: %(reason)s") % {
            "name": self.name[:QUOTED_LENGTH],
            "value": value,
            "reason": self.reason,
        }


def _field_path(model, key: str):
    """The field a lookup key ends on and the lookup parts after it; (None, []) if none."""
    parts = key.split("__")
    opts, field, used = model._meta, None, 0
    for part in parts:
        if opts is None:
            break
        try:
            field = opts.get_field(part)
        except FieldDoesNotExist:
            break
        used += 1
        related = getattr(field, "related_model", None)
        opts = related._meta if field.is_relation and related is not None else None
    if field is None:
        return None, []
    return field, parts[used:]


def _value_field(field):
    """The field whose type a value compared with ``field`` must have (a relation's key)."""
    if not field.is_relation or field.related_model is None:
        return field
    if isinstance(field, models.ForeignKey):
        return field.target_field
    return field.related_model._meta.pk


def _check_number_range(field, number) -> None:
    try:
        low, high = connection.ops.integer_field_range(field.get_internal_type())
    except KeyError:  # a number field of a type the backend sets no range for
        return
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValidationError(_("the number is out of range."))


def _check_decimal(field, value: decimal.Decimal) -> None:
    # A column of max_digits holds less than 10**(max_digits - decimal_places); PostgreSQL
    # refuses to compare with a number of a hundred thousand digits.
    whole_digits = (field.max_digits or 100) - (field.decimal_places or 0)
    if abs(value) >= decimal.Decimal(10) ** whole_digits or value.adjusted() < -100:
        raise ValidationError(_("the number is out of range."))


def _check_moment(value) -> None:
    if isinstance(value, datetime):
        # A moment the database stores in UTC must still be a moment after the conversion.
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise ValidationError(_("the date is out of range.")) from None


def _check_one(field, parts: list[str], value: str) -> None:
    """Raise ValidationError when ``value`` cannot be compared with the field as ``parts`` say."""
    transforms = [part for part in parts if part in DATE_PARTS or part in ("date", "time")]
    lookup = parts[-1] if parts else "exact"
    if lookup in TEXT_LOOKUPS or lookup == "isnull":
        return
    if transforms and transforms[-1] in DATE_PARTS:
        low, high = DATE_PARTS[transforms[-1]]
        try:
            number = int(value)
        except ValueError:
            raise ValidationError(_("it is not a whole number.")) from None
        if not low <= number <= high:
            raise ValidationError(
                _("it must lie between %(low)d and %(high)d.") % {"low": low, "high": high}
            )
        return
    if transforms and transforms[-1] == "date":
        field = models.DateField()
    elif transforms and transforms[-1] == "time":
        field = models.TimeField()
    python = field.to_python(value)
    if isinstance(field, models.DecimalField) and python is not None:
        _check_decimal(field, python)
    elif isinstance(python, int) and not isinstance(python, bool):
        _check_number_range(field, python)
    elif isinstance(python, date):
        _check_moment(python)


def check_lookup(model, key: str, value: str) -> None:
    """Raise BadParameter when a list's ``?key=value`` cannot be run against the database.

    Keys that name no field (a custom filter's parameter, a misspelt field) are left to the
    admin, which refuses the unknown ones itself.
    """
    field, parts = _field_path(model, key)
    if field is None:
        return
    if REGEX_LOOKUPS & set(parts):
        raise BadParameter(key, value, _("regular expressions are not accepted in filters."))
    lookup = parts[-1] if parts else "exact"
    values = value.split(",") if lookup in ("in", "range") else [value]
    for one in values:
        try:
            _check_one(_value_field(field), parts, one)
        except ValidationError as error:
            raise BadParameter(key, value, " ".join(error.messages)) from None


class SafeParametersMixin:
    """Bad filters of a list or an export and bad initial values of an add form: no 500.

    A bad filter sends the user back to the list (``?e=1``, the admin's own answer) with a
    message saying which parameter and value; a bad initial value is left out of the form, with
    a warning.
    """

    def _custom_filter_parameters(self, request) -> set[str]:
        return {
            list_filter.parameter_name
            for list_filter in self.get_list_filter(request)
            if isinstance(list_filter, type) and issubclass(list_filter, SimpleListFilter)
        }

    def filter_parameters(self, request) -> list[tuple[str, str]]:
        """The parameters of the request that the list would take as filters."""
        skip = NOT_FILTERS | self._custom_filter_parameters(request)
        return [
            (key, value)
            for key, values in request.GET.lists()
            if key not in skip
            for value in values
        ]

    def check_filter_parameters(self, request) -> None:
        """Raise BadParameter for the first filter of the request that cannot be run."""
        for key, value in self.filter_parameters(request):
            check_lookup(self.model, key, value)

    def _refuse(self, request, error: BadParameter | None) -> None:
        if error is None:
            message = _("The list's filters cannot be applied; the whole list is shown.")
        else:
            message = error.message
        self.message_user(request, message, messages.ERROR)

    def get_changelist_instance(self, request):
        try:
            self.check_filter_parameters(request)
        except BadParameter as error:
            self._refuse(request, error)
            raise IncorrectLookupParameters(error) from error
        if not self.filter_parameters(request):
            # No filter to blame: a failure is the application's, and must show as one.
            return super().get_changelist_instance(request)
        try:
            # The ChangeList counts its rows: a filter the checks above missed fails here, in
            # a savepoint so that PostgreSQL's transaction survives the failure.
            with transaction.atomic():
                return super().get_changelist_instance(request)
        except (DatabaseError, ValueError, OverflowError) as error:
            self._refuse(request, None)
            raise IncorrectLookupParameters(error) from error

    def get_export_queryset(self, request):
        self.check_filter_parameters(request)
        if not self.filter_parameters(request):
            return super().get_export_queryset(request)
        try:
            queryset = super().get_export_queryset(request)
            with transaction.atomic():
                queryset.exists()
        except (IncorrectLookupParameters, DatabaseError, ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error
        return queryset

    def export_action(self, request):
        try:
            return super().export_action(request)
        except BadParameter as error:
            self._refuse(request, error)
        except IncorrectLookupParameters:
            self._refuse(request, None)
        opts = self.model._meta
        changelist = reverse(
            f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_changelist"
        )
        return redirect(f"{changelist}?{ERROR_FLAG}=1")

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        for name in list(initial):
            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            given = initial[name]
            values = given if isinstance(given, list) else [given]
            try:
                for value in values:
                    _check_one(_value_field(field), [], value)
            except ValidationError as error:
                del initial[name]
                self.message_user(
                    request,
                    _("The initial value “%(value)s” of “%(name)s” was left out: %(reason)s")
                    % {
                        "value": str(given)[:QUOTED_LENGTH],
                        "name": name,
                        "reason": " ".join(error.messages),
                    },
                    messages.WARNING,
                )
        return initial

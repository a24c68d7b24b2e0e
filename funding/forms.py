"""Forms of the officers' admin."""

from django import forms
from django.contrib.admin.widgets import AdminTextareaWidget
from django.core.exceptions import ValidationError
from django.db import models, router, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from import_export.forms import ImportForm

from funding.amounts import (
    AmountSyntaxError,
    NumberSyntaxError,
    parse_amount_text,
    parse_whole_number,
)
from funding.imports import too_big_message
from funding.limits import MAX_CELL_CHARS, MAX_FILE_BYTES


class LocalizedDecimalField(forms.DecimalField):
    """A decimal typed the way officers type it: 1.234,56, 1234,56 or 1234.56.

    A text input (a number input would depend on the browser's language) showing the value in
    the interface's format; the reading rule is the importer's (funding.amounts), and every
    message quotes what was typed.
    """

    widget = forms.TextInput
    default_error_messages = {
        "invalid": _("“%(value)s” is not a number; write it as 1234,56 or 1.234,56."),
        "ambiguous": _(
            "“%(value)s” is ambiguous: the three digits after the separator may be thousands "
            "or decimals; write 1005 or 1005,00."
        ),
        "max_decimal_places": _("“%(value)s” has more than %(max)s decimals."),
        "max_digits": _("“%(value)s” has more than %(max)s digits."),
        "min_value": _("%(value)s is less than the smallest allowed value, %(limit_value)s."),
        "max_value": _("%(value)s is more than the largest allowed value, %(limit_value)s."),
    }

    def __init__(self, **kwargs):
        kwargs["localize"] = True
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "decimal")

    def to_python(self, value):
        if value in self.empty_values:
            return None
        typed = str(value)[:40]
        try:
            number = parse_amount_text(str(value))
        except AmountSyntaxError as error:
            code = "ambiguous" if error.ambiguous else "invalid"
            raise ValidationError(
                self.error_messages[code], code=code, params={"value": typed}
            ) from None
        # Checked here, not by Django's validator, so that the message quotes what was typed.
        places = max(0, -number.as_tuple().exponent)
        if self.decimal_places is not None and places > self.decimal_places:
            raise ValidationError(
                self.error_messages["max_decimal_places"],
                code="max_decimal_places",
                params={"value": typed, "max": self.decimal_places},
            )
        return number

    def validate(self, value):
        # The parent re-checks finiteness with its own message; to_python already did.
        forms.Field.validate(self, value)


class WholeNumberField(forms.IntegerField):
    """A whole number (a year, a pay grade, a count) in the digits 0–9, quoted when refused.

    Django's IntegerField reads it with ``int()``, which takes any script's digits ("٢٠٢٧").
    """

    default_error_messages = {"invalid": _("“%(value)s” is not a whole number.")}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            return parse_whole_number(str(value))
        except NumberSyntaxError:
            raise ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": str(value)[:40]}
            ) from None


# The ``formfield_overrides`` of every admin and inline: numbers are read by the rules above,
# and texts stay within what an import may hold.
# IntegerField covers its subclasses (positive, small, big): the admin looks overrides up
# along the model field's class hierarchy.
FIELDS_AS_TYPED = {
    models.DecimalField: {"form_class": LocalizedDecimalField},
    models.IntegerField: {"form_class": WholeNumberField},
    # Notes and descriptions hold what a spreadsheet cell holds (funding.limits), on the
    # admin's pages as in the imports; the admin's own wide text area is kept.
    models.TextField: {"max_length": MAX_CELL_CHARS, "widget": AdminTextareaWidget},
}


class OptimisticLockForm(forms.ModelForm):
    """Refuses to save over a version someone else saved after this form was opened.

    The form carries the version it was opened at (``OptimisticLockAdmin`` renders it on every
    page of the model: change, history revert). When the stored version is newer, saving is
    refused with a message naming who saved meanwhile; the officer's input stays in the form,
    and the form now carries the newer version, so a second save is a conscious decision to
    overwrite. A form that comes back without its version (a page from before the field, a
    hand-made request) is refused too: it cannot show that it saw the stored values.
    """

    expected_version = WholeNumberField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["expected_version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk:
            return cleaned
        model = type(self.instance)
        rows = model.objects.filter(pk=self.instance.pk)
        # Locks the row until the saving transaction ends, so two saves cannot interleave.
        # Every admin path that saves runs in a transaction (the history revert too:
        # funding.admin.LockedHistoryAdmin); outside one there is nothing to hold the lock.
        if transaction.get_connection(router.db_for_write(model)).in_atomic_block:
            rows = rows.select_for_update()
        current = rows.values_list("version", flat=True).first()
        expected = cleaned.get("expected_version")
        if current is None or current == expected:
            return cleaned
        data = self.data.copy()
        data[self.add_prefix("expected_version")] = current
        self.data = data
        if expected is None:
            raise ValidationError(
                _(
                    "This form does not say which version of “%(object)s” it was opened at, so "
                    "it could overwrite a newer one. Nothing was saved; reload the page and "
                    "enter your changes again."
                ),
                code="version_missing",
                params={"object": self.instance},
            )
        history = getattr(self.instance, "history", None)
        latest = history.order_by("-history_date").first() if history is not None else None
        if latest is None:
            raise ValidationError(
                _(
                    "Someone saved “%(object)s” after you opened it. Nothing was saved; your "
                    "entries are kept below. Compare them with the current values in a new "
                    "tab, then save again to overwrite."
                ),
                code="stale_version",
                params={"object": self.instance},
            )
        raise ValidationError(
            _(
                "%(who)s saved “%(object)s” at %(when)s, after you opened it. Nothing was saved; "
                "your entries are kept below. Compare them with the current values in a new tab, "
                "then save again to overwrite."
            ),
            code="stale_version",
            params={
                "who": latest.history_user or _("Someone"),
                "object": self.instance,
                "when": formats.date_format(
                    timezone.localtime(latest.history_date), "DATETIME_FORMAT"
                ),
            },
        )


class IndexationForm(forms.Form):
    """The indexation of the "copy to the next year" action, typed the Slovenian way (2,00)."""

    percent = LocalizedDecimalField(
        label=_("Indexation (%)"),
        max_digits=5,
        decimal_places=2,
        initial=2,
        help_text=_("E.g. 2,00 for material costs +2 %, the rule of 2025; 0 copies unchanged."),
    )


class SpreadsheetImportForm(ImportForm):
    """The admin's import form: a file over the size limit is refused before it is stored.

    django-import-export would copy the upload chunk by chunk into its temporary folder and
    read it back before the format could refuse it.
    """

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        if upload.size > MAX_FILE_BYTES:
            raise ValidationError(too_big_message(upload.name, upload.size), code="too_big")
        return upload

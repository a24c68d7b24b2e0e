"""Forms of the officers' admin."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _


class OptimisticLockForm(forms.ModelForm):
    """Refuses to save over a version someone else saved after this form was opened.

    The form carries the version it was opened at. When the stored version is newer, saving
    is refused with a message naming who saved meanwhile; the officer's input stays in the
    form, and the form now carries the newer version, so a second save is a conscious
    decision to overwrite.
    """

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["expected_version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk:
            return cleaned
        model = type(self.instance)
        # Locks the row until the admin's transaction ends, so two saves cannot interleave.
        current = (
            model.objects.select_for_update()
            .filter(pk=self.instance.pk)
            .values_list("version", flat=True)
            .first()
        )
        expected = cleaned.get("expected_version")
        if current is None or expected is None or current == expected:
            return cleaned
        data = self.data.copy()
        data[self.add_prefix("expected_version")] = current
        self.data = data
        latest = self.instance.history.order_by("-history_date").first()
        raise ValidationError(
            _(
                "%(who)s saved “%(object)s” at %(when)s, after you opened it. Nothing was saved; "
                "your entries are kept below. Compare them with the current values in a new tab, "
                "then save again to overwrite."
            ),
            code="stale_version",
            params={
                "who": (latest.history_user if latest and latest.history_user else _("Someone")),
                "object": self.instance,
                "when": formats.date_format(
                    timezone.localtime(latest.history_date), "DATETIME_FORMAT"
                )
                if latest
                else "?",
            },
        )


class IndexationForm(forms.Form):
    """The indexation of the "copy to the next year" action, typed the Slovenian way (2,00)."""

    percent = forms.DecimalField(
        label=_("Indexation (%)"),
        max_digits=5,
        decimal_places=2,
        initial=2,
        localize=True,
        help_text=_("E.g. 2,00 for material costs +2 %, the rule of 2025; 0 copies unchanged."),
    )

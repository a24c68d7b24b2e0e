"""Input validation of the programs forms that the models alone cannot hold."""

from django import forms
from django.core.exceptions import ValidationError

from programs.models import lead_count_error


class ResponsibleInstitutionFormSet(forms.BaseInlineFormSet):
    """An activity's responsible institutions: exactly one of them is the lead (nosilec).

    The database holds "at most one lead"; "at least one" depends on all rows together, so
    it is checked here and in the import.
    """

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        leads = [
            form
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("is_lead")
        ]
        error = lead_count_error(len(leads), activity=self.instance.text[:80])
        if error is not None:
            raise ValidationError(error)

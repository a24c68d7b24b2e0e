"""The template backend: Django's, rendering nothing that reorders text (bidi controls).

A name typed with a right-to-left override (U+202E) prints the rest of its line backwards in
every page and PDF that shows it, and the isolates and marks (U+2066–U+2069, U+200E, U+200F,
U+061C) move text about as much. No text of this product needs them. Every page, document
and PDF is rendered from a template, so the rendered text loses them here: one place that
also covers text stored before, restored from a backup, brought back by a history revert or
imported by any path. The stored data stays as it was typed (exports carry it unchanged).
"""

import re

from django.template import TemplateDoesNotExist
from django.template.backends import django as django_backend
from django.utils.safestring import mark_safe

BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI_CONTROL = re.compile(f"[{BIDI_CONTROLS}]")


def strip_bidi_controls(text: str) -> str:
    """The text without bidi control characters."""
    # Substring tests are quicker than one pass of the pattern; pages rarely hold any.
    if any(control in text for control in BIDI_CONTROLS):
        return _BIDI_CONTROL.sub("", text)
    return text


class Template(django_backend.Template):
    def render(self, context=None, request=None):
        # Removing characters cannot make escaped markup unsafe.
        return mark_safe(strip_bidi_controls(super().render(context, request)))


class DjangoTemplates(django_backend.DjangoTemplates):
    """Django's template backend whose templates render without bidi control characters."""

    def from_string(self, template_code):
        return Template(self.engine.from_string(template_code), self)

    def get_template(self, template_name):
        try:
            return Template(self.engine.get_template(template_name), self)
        except TemplateDoesNotExist as exc:
            django_backend.reraise(exc, self)

"""Middleware of the project: the language, the Content Security Policy of documents, and
query strings no database can be asked about."""

from csp.constants import NONE
from csp.middleware import CSPMiddleware
from django.conf import settings
from django.http import HttpResponseBadRequest
from django.middleware.locale import LocaleMiddleware
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _


class ChosenLanguageMiddleware(LocaleMiddleware):
    """Like Django's LocaleMiddleware, but ignores the browser's Accept-Language.

    Municipal officers often work on English-language computers; the product still speaks
    Slovenian to them unless they pick another language (stored in the language cookie).
    """

    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the one policy an inline PDF can live with.

    Chrome shows a PDF in a page of its own making, an ``<embed>`` with inline styles, and applies
    the PDF response's policy to that page: ``object-src 'none'`` blocks the viewer ("This
    content is blocked", crbug.com/271452). A PDF runs none of the application's scripts, so
    its policy only forbids framing, as X-Frame-Options does; every other response gets the
    policy of ``CONTENT_SECURITY_POLICY``.
    """

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and response.get("Content-Type", "").startswith("application/pdf"):
            parts.config, parts.update, parts.replace = {"frame-ancestors": [NONE]}, None, None
        return parts


class RefuseNulInQueryMiddleware:
    """Answers 400 to a URL whose parameters hold a NUL character (``%00``).

    PostgreSQL refuses a NUL in any text it is sent, so a filter or lookup built from such a
    parameter fails as a server error — in the admin's lists of every model (Django allows
    ``?name=…`` on any field), its autocomplete and the libraries' views alike. Nothing stored
    holds a NUL (forms refuse it), so such a URL could find nothing anyway. A NUL typed into a
    form is left to the form, which says so next to the field.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any("\x00" in key + "".join(values) for key, values in request.GET.lists()):
            message = _(
                "The address holds a NUL character (a zero byte), which no name or text can "
                "contain; remove it from the address."
            )
            return HttpResponseBadRequest(
                render_to_string("400.html", {"exception": message}, request=request)
            )
        return self.get_response(request)

"""Middleware of the project: the language, and the Content Security Policy of documents."""

from csp.constants import NONE
from csp.middleware import CSPMiddleware
from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


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

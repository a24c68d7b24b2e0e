"""PDF rendering with WeasyPrint, able to reach nothing but the application's static files.

Documents carry text that officers and associations typed. Django escapes it, so markup in a
name stays text; the fetcher is the second wall: whatever URL a document or stylesheet names,
WeasyPrint may read only the application's static files under ``STATIC_URL`` — no
``http(s)://``, no ``file://`` paths elsewhere, no ``data:``, no redirects.

In development the files are found where they are, by Django's static-files finders. In
production ``{% static %}`` names the hashed copies collectstatic wrote (``css/print.3f9a….css``,
whose ``url()``s name hashed fonts in turn); those are served from the collected folder, and
only names listed in its manifest.
"""

from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.exceptions import SuspiciousFileOperation
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

# Documents are rendered as if served from this origin; ".invalid" never resolves (RFC 6761),
# so even a fetcher bug could not reach a real host under that name.
DOCUMENT_BASE_URL = "https://documents.invalid/"
_MEDIA_TYPES = {
    ".css": "text/css",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
}


class BlockedURL(ValueError):
    """A document asked for something outside the application's static files."""


class StaticFilesFetcher(URLFetcher):
    """Serves ``https://documents.invalid/static/…`` from the static files; refuses the rest."""

    def __init__(self):
        super().__init__(allowed_protocols=("https",), allow_redirects=False)

    def fetch(self, url, headers=None):
        path = self.static_path(url)
        return URLFetcherResponse(
            url,
            body=path.read_bytes(),
            headers={"Content-Type": _MEDIA_TYPES.get(path.suffix, "application/octet-stream")},
        )

    @staticmethod
    def static_path(url: str) -> Path:
        """The static file a URL names; BlockedURL for anything else."""
        parts = urlsplit(url)
        prefix = "/" + settings.STATIC_URL.strip("/") + "/"
        base = urlsplit(DOCUMENT_BASE_URL)
        if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or not parts.path.startswith(
            prefix
        ):
            raise BlockedURL(f"blocked: {url[:200]}")
        relative = unquote(parts.path[len(prefix) :])
        if not relative or ".." in Path(relative).parts or relative.startswith("/"):
            raise BlockedURL(f"blocked: {url[:200]}")
        try:
            found = _collected(relative) or finders.find(relative)
        except SuspiciousFileOperation:
            raise BlockedURL(f"blocked: {url[:200]}") from None
        if not found:
            raise BlockedURL(f"no such static file: {relative[:200]}")
        return Path(found)


def _collected(relative: str) -> str | None:
    """The collected file of a hashed name in production's manifest; None otherwise."""
    storage = staticfiles_storage
    if isinstance(storage, ManifestFilesMixin) and relative in storage.hashed_files.values():
        return storage.path(relative)
    return None


def render_pdf(html: str) -> bytes:
    """Render an HTML document (with ``{% static %}`` links) to PDF bytes."""
    return render_pdf_pages(html)[0]


def render_pdf_pages(html: str) -> tuple[bytes, int]:
    """Render like ``render_pdf``, and say how many pages the PDF has.

    The same HTML gives the same bytes: WeasyPrint 70 writes no creation or modification
    date (unless the HTML has ``dcterms.created``/``dcterms.modified`` meta tags) and no
    file identifier (``pdf_identifier`` is off by default), and names embedded fonts by a
    stable hash of their description. A signed annex is verified by its SHA-256.
    """
    document = HTML(
        string=html, base_url=DOCUMENT_BASE_URL, url_fetcher=StaticFilesFetcher()
    ).render()
    return document.write_pdf(), len(document.pages)

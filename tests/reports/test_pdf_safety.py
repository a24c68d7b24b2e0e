"""PDFs can reach nothing but the application's static files."""

import io

import pytest
from pypdf import PdfReader

from programs.models import Association
from reports.pdf import BlockedURL, StaticFilesFetcher

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "https://example.com/static/css/print.css",
        "file:///etc/passwd",
        "data:text/css,body{}",
        "ftp://documents.invalid/static/css/print.css",
        "https://documents.invalid/etc/passwd",
        "https://documents.invalid/static/../../../etc/passwd",
        "https://documents.invalid/static/%2e%2e/%2e%2e/etc/passwd",
        "https://documents.invalid/static//etc/passwd",
        "https://documents.invalid/static/css/missing.css",
    ],
)
def test_the_fetcher_refuses_everything_but_static_files(url):
    with pytest.raises(BlockedURL):
        StaticFilesFetcher().fetch(url)


def test_the_fetcher_serves_the_applications_static_files():
    response = StaticFilesFetcher().fetch("https://documents.invalid/static/css/print.css")
    assert b"@font-face" in response.read()
    assert response.content_type == "text/css"


@pytest.fixture
def fetched(monkeypatch):
    """Every URL WeasyPrint asks the fetcher for."""
    urls = []
    original = StaticFilesFetcher.fetch

    def recording(self, url, headers=None):
        urls.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(StaticFilesFetcher, "fetch", recording)
    return urls


@pytest.mark.parametrize(
    "name",
    [
        '<img src="file:///etc/passwd">',
        "<link rel=stylesheet href=http://169.254.169.254/>",
        "<style>@import url(http://169.254.169.254/x.css);</style>",
    ],
)
def test_markup_in_a_name_prints_as_text_and_fetches_nothing(demo, persona, client, fetched, name):
    Association.objects.filter(slug="vezi").update(short_name=name)
    client.force_login(persona("referent.sezana"))
    response = client.get("/reports/strategies/kras-2025-2029/2025/cost-sharing.pdf")
    assert response.status_code == 200
    pages = PdfReader(io.BytesIO(response.content)).pages
    text = "".join("".join(page.extract_text() for page in pages).split())
    assert "".join(name.upper().split()) in text  # the markup is printed, not obeyed
    assert fetched, "the document's own stylesheet and fonts go through the fetcher"
    assert all(url.startswith("https://documents.invalid/static/") for url in fetched), fetched

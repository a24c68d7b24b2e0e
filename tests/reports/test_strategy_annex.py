"""The strategy annex and the councils' resolutions: content, determinism, command, views.

Each PDF render costs about a second, so the tests render few: one annex is read for
everything the seed's shape asks of it, and permission tests stop before rendering.
"""

import datetime
import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from pypdf import PdfReader

from funding.adoption import adoption_record, revision_open, revision_propose, sha256
from funding.models import Municipality
from reports.annex import (
    RenderedPdf,
    current_annex,
    render_annex_pdf,
    render_resolution_pdf,
    slovenian_list,
    text_blocks,
    unbroken_periods,
)
from reports.formatting import NumberFormat
from reports.selectors import cost_sharing_table
from tests.reports.readers import STRATEGY_READERS

pytestmark = pytest.mark.django_db

SLUG = "kras-2025-2029"
ANNEX_URL = f"/reports/strategies/{SLUG}/annex.pdf"
TITLE = (
    "Strategija financiranja društev, ki delujejo v javnem interesu in celodnevno izvajajo "
    "programe na območju občin Divača, Hrpelje-Kozina, Komen in Sežana v obdobju 2025–2029"
)
MAYORS = [
    ("OBČINA DIVAČA", "Alenka Štrucl Dovgan", "Županja"),
    ("OBČINA HRPELJE-KOZINA", "Saša Likavec Svetelšek", "Županja"),
    ("OBČINA KOMEN", "mag. Erik Modic", "Župan"),
    ("OBČINA SEŽANA", "Andrej Sila", "Župan"),
]
COUNCILS = [
    ("komen", datetime.date(2024, 12, 10), "410-0021/2024-4"),
    ("divaca", datetime.date(2024, 12, 12), "410-0045/2024-3"),
    ("hrpelje-kozina", datetime.date(2024, 12, 17), "410-0037/2024-2"),
    ("sezana", datetime.date(2024, 12, 19), "410-0102/2024-6"),
]


def resolution_url(municipality: str) -> str:
    return f"/reports/strategies/{SLUG}/resolution/{municipality}.pdf"


def page_texts(content: bytes) -> list[str]:
    """Each page's text on one line; words WeasyPrint hyphenated at a line end joined again."""
    pages = PdfReader(io.BytesIO(content)).pages
    return [re.sub(r"\s+", " ", re.sub("\u2010\\s+", "", page.extract_text())) for page in pages]


def run(*args) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command("strategy_annex", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def in_force(demo):
    """The demo strategy proposed and adopted by all four councils (the annex frozen)."""
    revision = revision_propose(
        revision=revision_open(strategy=demo), proposed_on=datetime.date(2024, 11, 20)
    )
    for slug, date, number in COUNCILS:
        adoption_record(
            revision=revision,
            municipality=Municipality.objects.get(slug=slug),
            date=date,
            session="1. redna seja",
            resolution_number=number,
        )
    revision.refresh_from_db()
    return revision


def test_the_annex_from_the_command_has_the_seeds_shape_and_the_engines_table(demo, tmp_path):
    target = tmp_path / "priloga.pdf"
    printed = run(SLUG, "--output", str(target))
    content = target.read_bytes()
    pages = page_texts(content)
    count = len(pages)
    assert printed.strip() == f"Wrote {target}: {count} pages, SHA-256 {sha256(content)}"
    text = " ".join(pages)

    # Title page: the proposal mark of a draft, the title, the month; no page number.
    assert "PREDLOG" in pages[0]
    assert TITLE.upper() in pages[0]
    assert "november 2024" in pages[0]
    assert "Stran" not in pages[0]
    # Every later page is numbered "Stran X/Y", up to the last.
    assert f"Stran 2/{count}" in pages[1]
    assert f"Stran {count}/{count}" in pages[-1]
    assert TITLE in pages[1]  # the running header

    # The contents list the sections, and each entry's page shows its heading.
    assert "KAZALO" in pages[1]
    for heading in [
        "A. UVOD",
        "B. DOLOČITEV DRUŠTEV POSEBNEGA LOKALNEGA POMENA V OBČINAH DIVAČA, HRPELJE-KOZINA, "
        "KOMEN IN SEŽANA",
        "1. OCENA STANJA IN RAZLOGI ZA SPREJEM STRATEGIJE",
        "2.3 RDEČI KRIŽ SLOVENIJE, OBMOČNO ZDRUŽENJE SEŽANA",
        "3. IZHODIŠČA ZA SOFINANCIRANJE DEJAVNOSTI DRUŠTEV V LETIH 2025–2029",
        "4. PREGLED SOFINANCIRANJA DEJAVNOSTI DRUŠTEV V LETU 2025 (v EUR)",
    ]:
        entry = re.search(re.escape(heading) + r"[ .]*? (\d+) ", pages[1])
        assert entry, heading
        assert heading in pages[int(entry.group(1)) - 1], heading

    # A, C.1 and the associations' texts come from the data (the seed's wording).
    assert "Na območju občin Divača, Hrpelje-Kozina, Komen in Sežana delujeta dve društvi" in text
    assert "so svoje aktivnosti izvajala v predvidenem obsegu" in text
    for association in [
        "2.1 DRUŠTVO ZA POMOČ ZASVOJENIM IN NJIHOVIM BLIŽNJIM PO MOČ SEŽANA",
        "2.2 DRUŠTVO ZA DUŠEVNO ZDRAVJE IN KREATIVNO PREŽIVLJANJE PROSTEGA ČASA »VEZI«",
        "2.3 RDEČI KRIŽ SLOVENIJE, OBMOČNO ZDRUŽENJE SEŽANA",
        "2.4 MEDOBČINSKO DRUŠTVO PRIJATELJEV MLADINE SEŽANA",
    ]:
        assert association in text, association
    assert "Svet uporabnikov je bil oblikovan v letu 2007" in text  # VEZI's presentation
    assert "Mreža dnevnih centrov" in text  # a programme

    # The funding rules: the key with its source, positions with pay grades, the 3.x texts.
    assert "Sporazum o ureditvi premoženjsko pravnih razmerij štirih občin" in text
    assert "OBČINA KOMEN 15,32 %" in text
    assert "sekretarka območnega združenja (VII. stopnja izobrazbe) 43. 60 % 24.383,00" in text
    assert "Občine bodo v letu 2025 skupno zagotovile 62.112,00 EUR." in text
    assert "Občine so v letu 2024 zagotavljale sredstva za plačo sekretarke MDPM" in text

    # Section 4 is the engine's table, which adds up (not the seed's rounding slips).
    table = cost_sharing_table(demo, 2025)
    with translation.override("sl"):
        fmt = NumberFormat(places=0)
        totals = " ".join(fmt(cell.figure.value) for cell in table.total_cells)
        assert f"SKUPAJ OBČINE {fmt(table.total.value)} {totals}" in text
    for footnote in table.footnotes:
        assert footnote.text in text, footnote.text
    assert "26.170**" in text  # VEZI's row carries Sežana's in-kind footnote marker

    # One signature block per municipality, with its mayor, on the last page.
    for municipality, mayor, title in MAYORS:
        assert f"Št. Datum: {municipality} {mayor} {title}" in pages[-1]


def test_the_same_data_gives_the_same_annex_byte_for_byte(demo):
    first, second = render_annex_pdf(demo), render_annex_pdf(demo)
    assert sha256(first) == sha256(second)
    reader = PdfReader(io.BytesIO(first))
    assert "/CreationDate" not in reader.metadata
    assert "/ModDate" not in reader.metadata
    assert "/ID" not in reader.trailer


def test_adopted_documents_carry_the_councils_numbers_and_no_proposal_mark(in_force, demo):
    annex = current_annex(demo)
    # What a reader downloads is the signed annex: the hash stored when it came into force.
    assert sha256(annex.content) == in_force.annex_sha256
    assert annex.filename == "kras-2025-2029-priloga.pdf"
    pages = page_texts(annex.content)
    assert "PREDLOG" not in pages[0]
    assert "Št. 410-0021/2024-4 Datum: 10. 12. 2024 OBČINA KOMEN mag. Erik Modic" in pages[-1]

    komen = Municipality.objects.get(slug="komen")
    [text] = page_texts(render_resolution_pdf(demo, komen))
    assert "Številka: 410-0021/2024-4 Datum: 10. 12. 2024" in text
    assert "Občinski svet Občine Komen na svoji seji dne 10. 12. 2024 sprejel naslednji" in text


def test_komens_resolution_cites_its_statute_and_applies_from_1_january(demo):
    [text] = page_texts(render_resolution_pdf(demo, Municipality.objects.get(slug="komen")))
    assert text.startswith("Občina Komen Občinski svet Občine Komen Komen 86 6223 Komen")
    assert (
        "Na podlagi 24. člena Zakona o društvih (Uradni list RS, št. 64/11), 215. člena "
        "Pravilnika o postopkih za izvrševanje proračuna Republike (Uradni list RS, št. 50/07, "
        "61/08, 99/09 – ZIPRS1011, 3/13, 81/16, 11/22, 96/22, 105/22 – ZZNŠPP, 149/22, 106/23 "
        "in 88/24) in 16. člena Statuta Občine Komen (Uradni list RS, št. 80/09, 39/14, 39/16) "
        "je Občinski svet Občine Komen na svoji seji dne sprejel naslednji S K L E P"
    ) in text
    assert f"1. Sprejme se {TITLE}, ki je priloga tega sklepa." in text
    assert (
        "ko jo sprejme zadnji izmed Občinskih svetov Občin Divača, Hrpelje-Kozina, Komen in "
        "Sežana; uporabljati pa se začne z dnem 1. 1. 2025."
    ) in text
    assert "3. Ta sklep velja takoj. mag. Erik Modic Župan" in text
    assert "Stran 1/1" in text


def test_a_missing_statute_article_is_a_marked_gap_not_an_invented_one(demo):
    [text] = page_texts(render_resolution_pdf(demo, Municipality.objects.get(slug="divaca")))
    assert "in [manjka člen statuta občine – vpišite ga pri občini] je Občinski svet" in text
    assert "Statuta Občine" not in text
    assert "Alenka Štrucl Dovgan Županja" in text


def test_a_non_participant_has_no_resolution(demo):
    koper = Municipality.objects.create(name="Občina Koper", short_name="Koper", slug="koper")
    with pytest.raises(ValueError, match="koper"):
        render_resolution_pdf(demo, koper)


def test_texts_are_paragraphs_lists_and_subheadings_as_typed():
    blocks = text_blocks(
        "Cilji programa\n\nUvod v dveh\nvrsticah.\n\n• prvi,\n• drugi.\n- pod\n\nKonec:\r\n"
    )
    assert [(b.kind, b.lines, b.dashes) for b in blocks] == [
        ("heading", ("Cilji programa",), False),
        ("paragraph", ("Uvod v dveh", "vrsticah."), False),
        ("list", ("prvi,", "drugi."), False),
        ("list", ("pod",), True),
        ("paragraph", ("Konec:",), False),
    ]
    assert text_blocks("  \n\n ") == []
    assert slovenian_list(["Divača", "Komen", "Sežana"]) == "Divača, Komen in Sežana"
    assert unbroken_periods("<b> 2025–2029") == '&lt;b&gt; <span class="nowrap">2025–2029</span>'


@pytest.fixture
def reader(demo, persona, client):
    client.force_login(persona("referent.sezana"))
    return client


def test_the_annex_downloads_inline_with_its_hash(reader):
    response = reader.get(ANNEX_URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="kras-2025-2029-priloga.pdf"'
    assert response["X-Content-SHA256"] == sha256(response.content)


def test_a_council_resolution_downloads_in_one_click(reader):
    response = reader.get(resolution_url("sezana"))
    assert response.status_code == 200
    assert response["Content-Disposition"] == ('inline; filename="kras-2025-2029-sklep-sezana.pdf"')
    assert "Občinski svet Občine Sežana" in page_texts(response.content)[0]


def test_the_resolution_of_a_municipality_outside_the_strategy_is_not_found(reader, settings):
    settings.LANGUAGE_CODE = "en"
    Municipality.objects.create(name="Občina Koper", short_name="Koper", slug="koper")
    for slug in ["koper", "nobena"]:
        response = reader.get(resolution_url(slug))
        assert response.status_code == 404
        assert "does not take part in this strategy" in response.content.decode()
    assert reader.get("/reports/strategies/ni-je/annex.pdf").status_code == 404
    assert reader.get("/reports/strategies/ni-je/resolution/komen.pdf").status_code == 404


@pytest.fixture
def no_rendering(monkeypatch):
    """Permission tests need the access check, not a PDF: rendering is replaced."""
    document = RenderedPdf(b"%PDF-", 1, "document.pdf")
    monkeypatch.setattr("reports.views.current_annex", lambda strategy: document)
    monkeypatch.setattr("reports.views.render_resolution", lambda strategy, municipality: document)


@pytest.mark.parametrize(
    ("username", "status"),
    STRATEGY_READERS,
)
@pytest.mark.parametrize("url", [ANNEX_URL, resolution_url("komen")])
def test_each_persona_gets_the_documents_as_its_role_allows(
    demo, persona, client, no_rendering, username, status, url
):
    client.force_login(persona(username))
    assert client.get(url).status_code == status


def test_an_anonymous_visitor_is_sent_to_log_in(demo, client):
    assert client.get(ANNEX_URL).status_code == 302
    assert client.get(resolution_url("komen")).status_code == 302


def test_the_cost_sharing_page_and_the_index_link_the_documents(reader):
    page = reader.get(f"/reports/strategies/{SLUG}/2025/cost-sharing/").content.decode()
    assert f'href="{ANNEX_URL}"' in page
    for slug in ["sezana", "divaca", "hrpelje-kozina", "komen"]:
        assert f'href="{resolution_url(slug)}"' in page
    annex_page = reader.get(
        f"/reports/strategies/{SLUG}/2025/cost-sharing/?municipality=komen"
    ).content.decode()
    assert f'href="{resolution_url("komen")}"' in annex_page
    assert f'href="{resolution_url("sezana")}"' not in annex_page
    index = reader.get("/reports/").content.decode()
    assert index.count(f'href="{ANNEX_URL}"') == 1  # once, in the strategy's first year


def test_the_command_writes_a_resolution_and_says_so(demo, tmp_path):
    target = tmp_path / "sklep-komen.pdf"
    printed = run(SLUG, "--municipality", "komen", "--output", str(target))
    content = target.read_bytes()
    assert content.startswith(b"%PDF-")
    assert printed.strip() == f"Wrote {target}: 1 page, SHA-256 {sha256(content)}"
    assert "16. člena Statuta Občine Komen" in page_texts(content)[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["kras-2025-202"], "There is no strategy “kras-2025-202”"),
        ([SLUG, "--municipality", "koper"], "The municipality “koper” does not take part"),
    ],
)
def test_bad_arguments_are_refused_and_nothing_is_written(demo, tmp_path, args, message):
    with pytest.raises(CommandError) as raised:
        run(*args, "--output", str(tmp_path / "out.pdf"))
    assert message in str(raised.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("output", ["missing-folder/out.pdf", "a-folder"])
def test_an_unwritable_output_is_refused_naming_it(demo, tmp_path, output):
    (tmp_path / "a-folder").mkdir()
    path = tmp_path / output
    with pytest.raises(CommandError) as raised:
        run(SLUG, "--output", str(path))
    assert f"Cannot write “{path}”" in str(raised.value)
    assert [child.name for child in tmp_path.iterdir()] == ["a-folder"]
    assert list((tmp_path / "a-folder").iterdir()) == []

"""The strategy's annex (priloga) and each council's resolution (sklep) as PDF documents.

The annex is the document every participating council adopts, generated from the data in the
shape of the Kras 2025–2029 proposal: a title page, the contents, A. the introduction, B. the
associations of special local importance, C. their presentations and programmes, the funding
rules (the key with its source, the positions and pay grades, the indexation), section 4 (the
engine's cost-sharing table of the first year, with the in-kind footnotes) and one signature
block per municipality. The resolution is one council's one-page decision to adopt it.

Both are Slovenian legal documents: they are rendered in Slovenian whatever the reader's
language, and the same data gives the same bytes (nothing in them depends on the time, the
reader or database ids; see ``reports.pdf.render_pdf_pages``), so the SHA-256 stored when a
revision comes into force verifies a signed annex later.

The strategy's ``document_date`` stands for the month the document is dated: the Kras
proposal says only "November, 2024", so the demo stores 1 November 2024 and the title page
prints month and year ("november 2024"), never the day.
"""

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from funding.models import (
    CATEGORY_EXCHANGE_LABELS,
    BudgetCategory,
    BudgetItem,
    FundingStrategy,
    Municipality,
    StrategyAdoption,
    StrategyRevision,
    category_order,
    decimal_sum,
)
from programs.models import Association, Programme
from programs.services import council_name
from reports.documents import cost_sharing_context
from reports.pdf import render_pdf_pages
from reports.selectors import cost_sharing_table

DOCUMENT_LANGUAGE = "sl"
_BULLET = re.compile(r"^([•\-–])\s+(.*)$")
# A block of one line this short, without closing punctuation, is a subheading.
_HEADING_MAX_LENGTH = 100
_SENTENCE_END = ".,;:!?)…"
_PERIOD = re.compile(r"\b\d{4}[–-]\d{4}\b")
# č, ć, đ, š, ž follow c, d, s, z in the Slovenian alphabet; "~" sorts after every letter.
_SLOVENIAN_LETTERS = str.maketrans({"č": "c~", "ć": "c~~", "đ": "d~", "š": "s~", "ž": "z~"})


@dataclass(frozen=True)
class RenderedPdf:
    content: bytes
    pages: int
    filename: str


@dataclass(frozen=True)
class Block:
    """A block of an annex text: a paragraph (its lines), a list (its items) or a subheading."""

    kind: str  # "paragraph", "list" or "heading"
    lines: tuple[str, ...]
    dashes: bool = False  # a list written with "-" rather than "•"


def text_blocks(text: str) -> list[Block]:
    """An annex text as officers type it in the admin, in blocks.

    Blocks are separated by an empty line. In a block, a line starting with "• " or "- " is
    a list item, and other lines are lines of a paragraph (kept as typed). A block of one
    short line without closing punctuation ("Cilji programa") is a subheading.
    """
    blocks = []
    for chunk in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").strip()):
        lines = [" ".join(line.split()) for line in chunk.split("\n") if line.strip()]
        if not lines:
            continue
        first = lines[0]
        if (
            len(lines) == 1
            and not _BULLET.match(first)
            and len(first) <= _HEADING_MAX_LENGTH
            and first[-1] not in _SENTENCE_END
        ):
            blocks.append(Block("heading", (first,)))
            continue
        kind, dashes, current = "", False, []
        for line in lines:
            match = _BULLET.match(line)
            line_kind = "list" if match else "paragraph"
            line_dashes = bool(match) and match.group(1) != "•"
            if current and (line_kind, line_dashes) != (kind, dashes):
                blocks.append(Block(kind, tuple(current), dashes))
                current = []
            kind, dashes = line_kind, line_dashes
            current.append(match.group(2) if match else line)
        blocks.append(Block(kind, tuple(current), dashes))
    return blocks


def slovenian_order(name: str) -> str:
    """A sort key that puts č after c, š after s and ž after z, as the Slovenian alphabet does."""
    return name.lower().translate(_SLOVENIAN_LETTERS)


def slovenian_list(names) -> str:
    """Names joined as Slovenian text joins them: "Divača, Hrpelje-Kozina, Komen in Sežana"."""
    names = list(names)
    if len(names) < 2:
        return "".join(names)
    return ", ".join(names[:-1]) + " in " + names[-1]


def unbroken_periods(text: str) -> SafeString:
    """The text as HTML whose year ranges ("2025–2029") are not broken at the dash."""
    return mark_safe(_PERIOD.sub(r'<span class="nowrap">\g<0></span>', escape(text)))


def participants(strategy: FundingStrategy) -> list[Municipality]:
    """The municipalities of the key in alphabetical order, as the documents list them."""
    return sorted(
        (share.municipality for share in strategy.shares.select_related("municipality")),
        key=lambda municipality: slovenian_order(municipality.short_name),
    )


def participant(strategy: FundingStrategy, slug: str) -> Municipality | None:
    """The municipality of that slug if it takes part in the strategy, else None."""
    share = strategy.shares.select_related("municipality").filter(municipality__slug=slug).first()
    return share.municipality if share else None


def adopted_title(strategy: FundingStrategy) -> str:
    """The title as a resolution adopts it: with its period, added if the title lacks it."""
    if str(strategy.start_year) in strategy.title and str(strategy.end_year) in strategy.title:
        return strategy.title
    return f"{strategy.title} v obdobju od leta {strategy.start_year} do {strategy.end_year}"


def _revision(strategy: FundingStrategy, revision: StrategyRevision | None):
    return revision if revision is not None else strategy.latest_revision()


def _adoptions(revision: StrategyRevision | None) -> dict[str, StrategyAdoption]:
    """The revision's adoptions by municipality slug (the revision may be another strategy
    object's: a frozen revision is rendered from a temporary copy of its strategy)."""
    if revision is None or revision.pk is None:
        return {}
    return {
        adoption.municipality.slug: adoption
        for adoption in revision.adoptions.select_related("municipality")
    }


@dataclass(frozen=True)
class LineEntry:
    """A budget line of the first year with its positions (pay grade, share of the salary)."""

    label: str
    amount: Decimal
    items: tuple[BudgetItem, ...]


@dataclass(frozen=True)
class ProgrammeEntry:
    programme: Programme
    funders: str
    description: list[Block]


@dataclass(frozen=True)
class AssociationSection:
    """One association's parts of the annex: its presentation (C.2) and its funding (3.x)."""

    association: Association
    presentation: list[Block]
    programmes: list[ProgrammeEntry]
    funding_text: list[Block]
    lines: list[LineEntry]
    total: Decimal


def association_sections(strategy: FundingStrategy) -> list[AssociationSection]:
    """The associations in the strategy's order, with their programmes of the period and the
    first year's lines."""
    memberships = list(
        strategy.strategy_associations.select_related("association").order_by("position", "id")
    )
    association_ids = [membership.association_id for membership in memberships]
    programmes: dict[int, list[Programme]] = {}
    for programme in (
        Programme.objects.filter(association_id__in=association_ids)
        .prefetch_related("other_funders")
        .order_by("position", "id")
    ):
        if any(programme.covers(year) for year in strategy.years):
            programmes.setdefault(programme.association_id, []).append(programme)
    lines: dict[int, list[LineEntry]] = {}
    for line in (
        strategy.lines.filter(year=strategy.start_year)
        .prefetch_related("items")
        .order_by(category_order(), "id")
    ):
        label = CATEGORY_EXCHANGE_LABELS[BudgetCategory(line.category)]
        lines.setdefault(line.association_id, []).append(
            LineEntry(label=label, amount=line.amount, items=tuple(line.items.all()))
        )
    sections = []
    for membership in memberships:
        association = membership.association
        association_lines = lines.get(association.id, [])
        sections.append(
            AssociationSection(
                association=association,
                presentation=text_blocks(association.presentation),
                programmes=[
                    ProgrammeEntry(
                        programme=programme,
                        funders=", ".join(f.short_name for f in programme.other_funders.all()),
                        description=text_blocks(programme.description),
                    )
                    for programme in programmes.get(association.id, [])
                ],
                funding_text=text_blocks(membership.funding_text),
                lines=association_lines,
                total=decimal_sum(line.amount for line in association_lines),
            )
        )
    return sections


def annex_context(strategy: FundingStrategy, *, revision: StrategyRevision | None = None) -> dict:
    """Everything the annex shows; ``revision`` gives its status and the councils' adoptions."""
    revision = _revision(strategy, revision)
    adoptions = _adoptions(revision)
    municipalities = participants(strategy)
    shares = {share.municipality_id: share for share in strategy.shares.all()}
    rates = strategy.indexation_rates.order_by("year", category_order())
    table = cost_sharing_table(strategy, strategy.start_year)
    return {
        **cost_sharing_context(table),
        "strategy": strategy,
        "is_proposal": revision is None or revision.status != StrategyRevision.Status.IN_FORCE,
        "amendment": revision.number - 1 if revision is not None and revision.number > 1 else None,
        "participant_names": slovenian_list(m.short_name for m in municipalities),
        "introduction": text_blocks(strategy.introduction),
        "assessment": text_blocks(strategy.assessment),
        "associations": association_sections(strategy),
        "funding_rules": [line for line in strategy.funding_rules.splitlines() if line.strip()],
        "key": [(m, shares[m.pk].share_percent) for m in municipalities],
        "indexation": [
            (rate, CATEGORY_EXCHANGE_LABELS[BudgetCategory(rate.category)]) for rate in rates
        ],
        "signatures": [(m, adoptions.get(m.slug)) for m in municipalities],
    }


def annex_filename(strategy: FundingStrategy) -> str:
    return f"{strategy.slug}-priloga.pdf"


def render_annex(
    strategy: FundingStrategy, *, revision: StrategyRevision | None = None
) -> RenderedPdf:
    """The annex as PDF, with its page count."""
    with translation.override(DOCUMENT_LANGUAGE):
        html = render_to_string(
            "reports/strategy_annex_document.html", annex_context(strategy, revision=revision)
        )
    content, pages = render_pdf_pages(html)
    return RenderedPdf(content, pages, annex_filename(strategy))


def render_annex_pdf(
    strategy: FundingStrategy, *, revision: StrategyRevision | None = None
) -> bytes:
    """The annex as PDF bytes; the same data gives the same bytes."""
    return render_annex(strategy, revision=revision).content


def current_annex(strategy: FundingStrategy) -> RenderedPdf:
    """The annex a reader downloads: the file the councils adopted, else the draft.

    In force, the live data may already differ from what the councils adopted (later years'
    lines and rates change without an amendment, an amendment may be in preparation), so the
    annex stored on adoption is served: the signed bytes, whose hash was stored with them.
    """
    adopted = (
        strategy.revisions.filter(status=StrategyRevision.Status.IN_FORCE)
        .order_by("-number")
        .first()
    )
    if adopted is None:
        return render_annex(strategy, revision=strategy.latest_revision())
    return RenderedPdf(
        content=bytes(adopted.annex_pdf),
        pages=adopted.annex_pages,
        filename=annex_filename(strategy),
    )


def resolution_context(
    strategy: FundingStrategy,
    municipality: Municipality,
    *,
    revision: StrategyRevision | None = None,
) -> dict:
    """What one council's resolution shows; number and date from its adoption, if recorded."""
    municipalities = participants(strategy)
    if municipality.slug not in {m.slug for m in municipalities}:
        raise ValueError(f"{municipality.slug} does not take part in {strategy.slug}")
    return {
        "strategy": strategy,
        "municipality": municipality,
        "council": council_name(municipality),
        "address_lines": [part.strip() for part in municipality.address.split(",") if part.strip()],
        "adoption": _adoptions(_revision(strategy, revision)).get(municipality.slug),
        "title": unbroken_periods(adopted_title(strategy)),
        "participant_names": slovenian_list(m.short_name for m in municipalities),
        "applies_from": datetime.date(strategy.start_year, 1, 1),
    }


def resolution_filename(strategy: FundingStrategy, municipality: Municipality) -> str:
    return f"{strategy.slug}-sklep-{municipality.slug}.pdf"


def render_resolution(
    strategy: FundingStrategy,
    municipality: Municipality,
    *,
    revision: StrategyRevision | None = None,
) -> RenderedPdf:
    """One council's resolution as PDF, with its page count."""
    with translation.override(DOCUMENT_LANGUAGE):
        html = render_to_string(
            "reports/strategy_resolution_document.html",
            resolution_context(strategy, municipality, revision=revision),
        )
    content, pages = render_pdf_pages(html)
    return RenderedPdf(content, pages, resolution_filename(strategy, municipality))


def render_resolution_pdf(
    strategy: FundingStrategy,
    municipality: Municipality,
    *,
    revision: StrategyRevision | None = None,
) -> bytes:
    """The council resolution (SKLEP) of one participating municipality as PDF bytes."""
    return render_resolution(strategy, municipality, revision=revision).content

"""Writes that touch several models of a strategy."""

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from funding.exchange import ExchangeError, StrategyDoc
from funding.models import (
    MAX_INDEXATION,
    MIN_INDEXATION,
    Allocation,
    BudgetCategory,
    BudgetItem,
    BudgetLine,
    FundingStrategy,
    IndexationRate,
    InKindSupport,
    MunicipalBudgetItem,
    Municipality,
    Reallocation,
    StatedRealisation,
    StrategyAssociation,
    StrategyShare,
    decimal_sum,
)
from funding.register import RegisterImport
from programs.models import Association, Institution, Programme


def _validate(obj, path: str) -> None:
    """full_clean(), turning a validation error into an ExchangeError at ``path``."""
    try:
        obj.full_clean()
    except ValidationError as error:
        problems = [
            f"{path}.{name}: {message}" if name != "__all__" else f"{path}: {message}"
            for name, messages in error.message_dict.items()
            for message in messages
        ]
        raise ExchangeError(problems) from None


def _save(obj, path: str) -> None:
    """Validate, then save."""
    _validate(obj, path)
    obj.save()


def _upsert(model, lookup: dict, values: dict, path: str):
    obj = model.objects.filter(**lookup).first() or model(**lookup)
    for name, value in values.items():
        setattr(obj, name, value)
    _save(obj, path)
    return obj


@transaction.atomic
def strategy_import(
    *, document: StrategyDoc, update_register: bool = False, user=None, change_reason: str = ""
) -> FundingStrategy:
    """Create the strategy of a validated document, or replace the one with its slug.

    Municipalities, associations, institutions and programmes are the shared register
    (funding.register): matched by slug (an institution by abbreviation, a programme by
    association and name); a new one is created; an existing one is never silently changed:
    values the document leaves empty keep the stored ones, and a value that differs refuses the
    whole import (RegisterConflict) unless ``update_register`` allows it — and, when ``user``
    is given, that user may change the record. A programme the document does not mention is
    kept, because reports may refer to it. The strategy's own key, associations, lines, items
    and in-kind support are replaced. Everything happens in one transaction: on any error
    nothing is written. A strategy that is proposed or in force is refused
    (funding.adoption): it changes only through an amendment. ``user`` and ``change_reason``
    go into the register records' history.
    """
    existing = FundingStrategy.objects.filter(slug=document.slug).first()
    if existing is not None:
        reason = existing.lock_reason()
        if reason:
            raise ValidationError({"strategy": reason}, code="strategy_locked")
    register, municipalities, associations = _register_of(document)
    register.refuse_changes(update=update_register, user=user)
    register.save(validate=_validate, user=user, reason=change_reason)

    fields = dict(document.fields)
    lead_slug = fields.pop("lead_municipality", None)
    strategy = _upsert(
        FundingStrategy,
        {"slug": document.slug},
        {
            "title": document.title,
            "start_year": document.start_year,
            "end_year": document.end_year,
            "rounding_unit": document.rounding_unit,
            "lead_municipality": municipalities.get(lead_slug),
            "document_date": None,
            "key_source": "",
            "funding_rules": "",
            "introduction": "",
            "assessment": "",
            "resolution_basis": "",
            **fields,
        },
        "strategy",
    )
    strategy.lines.all().delete()
    strategy.shares.all().delete()
    strategy.strategy_associations.all().delete()
    strategy.in_kind_support.all().delete()
    strategy.indexation_rates.all().delete()

    # The document's key was checked as a whole when it was read (funding.exchange asks
    # key_error), so its shares are written as one set, not judged one by one.
    for position, entry in enumerate(document.municipalities):
        share = StrategyShare(
            strategy=strategy,
            municipality=municipalities[entry.slug],
            share_percent=entry.share_percent,
            position=position,
        )
        share.checked_as_a_set = True
        _save(share, f"municipalities[{position}]")
    for a_index, entry in enumerate(document.associations):
        association = associations[entry.slug]
        path = f"associations[{a_index}]"
        _save(
            StrategyAssociation(
                strategy=strategy,
                association=association,
                position=a_index,
                funding_text=entry.funding_text,
            ),
            path,
        )
        for l_index, line_doc in enumerate(entry.lines):
            _write_line(strategy, association, line_doc, f"{path}.lines[{l_index}]")
    for position, entry in enumerate(document.in_kind_support):
        _save(
            InKindSupport(
                strategy=strategy,
                municipality=municipalities[entry.municipality],
                association=associations[entry.association],
                description=entry.description,
                address=entry.address,
                position=position,
            ),
            f"in_kind_support[{position}]",
        )
    for position, entry in enumerate(document.indexation_rates):
        _save(
            IndexationRate(
                strategy=strategy,
                year=entry.year,
                category=entry.category,
                percent=entry.percent,
                basis=entry.basis,
            ),
            f"indexation_rates[{position}]",
        )
    return strategy


def _register_of(document: StrategyDoc) -> tuple[RegisterImport, dict, dict]:
    """The register records the document names, matched and compared; nothing saved yet."""
    register = RegisterImport()
    institutions = {
        short: register.match(
            Institution, {"short_name": short}, {"name": name}, f"institutions[{i}]"
        )
        for i, (short, name) in enumerate(document.institutions.items())
    }
    municipalities = {
        entry.slug: register.match(
            Municipality,
            {"slug": entry.slug},
            {"name": entry.name, **entry.fields},
            f"municipalities[{i}]",
            new_values={"short_name": entry.name},
        )
        for i, entry in enumerate(document.municipalities)
    }
    associations = {
        entry.slug: register.match(
            Association,
            {"slug": entry.slug},
            {"name": entry.name, **entry.fields},
            f"associations[{i}]",
            new_values={"short_name": entry.name},
        )
        for i, entry in enumerate(document.associations)
    }
    for a_index, entry in enumerate(document.associations):
        for position, programme_doc in enumerate(entry.programmes or ()):
            programme = register.match(
                Programme,
                {"association": associations[entry.slug], "name": programme_doc.name},
                {"position": position, **programme_doc.fields},
                f"associations[{a_index}].programmes[{position}]",
            )
            register.match_funders(
                programme, [institutions[short] for short in programme_doc.funders]
            )
    return register, municipalities, associations


def _write_line(strategy, association, line_doc, path: str) -> None:
    line = BudgetLine(
        strategy=strategy,
        association=association,
        year=line_doc.year,
        category=line_doc.category,
        amount=line_doc.amount,
        note=line_doc.note,
    )
    _save(line, path)
    for position, item in enumerate(line_doc.items):
        # Written as one set: the line's rule "items add up" is checked below, once all are in.
        budget_item = BudgetItem(
            line=line,
            position=position,
            description=item.description,
            pay_grade=item.pay_grade,
            share_percent=item.share_percent,
            amount=item.amount,
        )
        budget_item.checked_as_a_set = True
        _save(budget_item, f"{path}.items[{position}]")
    _validate(line, path)


CENT = Decimal("0.01")


@transaction.atomic
def budget_lines_copy_to_next_year(
    *, lines: Iterable[BudgetLine], percent: Decimal
) -> list[BudgetLine]:
    """Copy lines (with their items) to the following year, indexed by ``percent``.

    The same percent for every category; ``budget_lines_copy_indexed`` does the copying.
    """
    return budget_lines_copy_indexed(
        lines=lines, percents=dict.fromkeys(BudgetCategory.values, percent)
    )


@transaction.atomic
def budget_lines_copy_indexed(
    *, lines: Iterable[BudgetLine], percents: Mapping[str, Decimal]
) -> list[BudgetLine]:
    """Copy lines (with their items) to the next year, each indexed by its category's percent.

    ``percents`` maps a category (``BudgetCategory`` value) to the change in percent. Each
    amount becomes amount × (100 + percent) / 100, rounded half-up to the cent; a line with
    items becomes the sum of its indexed items, so it still adds up. All or nothing: if any
    line cannot be copied (its category has no percent, the next year lies outside the
    strategy's period, or already has that line), ValidationError lists every such line and
    nothing is written.
    """
    for percent in set(percents.values()):
        if not MIN_INDEXATION <= percent <= MAX_INDEXATION:
            raise ValidationError(
                _("The indexation %(percent)s %% lies outside %(min)s %% to %(max)s %%."),
                code="indexation_out_of_range",
                params={"percent": percent, "min": MIN_INDEXATION, "max": MAX_INDEXATION},
            )
    lines = list(lines)
    problems = [problem for line in lines if (problem := _copy_problem(line, percents))]
    if problems:
        raise ValidationError(problems)
    copies = []
    for line in lines:
        factor = (Decimal(100) + percents[line.category]) / Decimal(100)
        items = list(line.items.all())
        scaled = [(item.amount * factor).quantize(CENT, ROUND_HALF_UP) for item in items]
        copy = BudgetLine(
            strategy=line.strategy,
            association=line.association,
            year=line.year + 1,
            category=line.category,
            amount=decimal_sum(scaled)
            if items
            else (line.amount * factor).quantize(CENT, ROUND_HALF_UP),
            note=line.note,
        )
        copy.full_clean()
        copy.save()
        for item, amount in zip(items, scaled, strict=True):
            copied_item = BudgetItem(
                line=copy,
                position=item.position,
                description=item.description,
                pay_grade=item.pay_grade,
                share_percent=item.share_percent,
                amount=amount,
            )
            # The copy's amount is the sum of its indexed items: they add up as one set.
            copied_item.checked_as_a_set = True
            copied_item.full_clean()
            copied_item.save()
        copies.append(copy)
    return copies


def _copy_problem(line: BudgetLine, percents: Mapping[str, Decimal]) -> ValidationError | None:
    target = line.year + 1
    if target not in line.strategy.years:
        return ValidationError(
            _("%(line)s: %(year)s lies outside the strategy's period %(start)s–%(end)s."),
            code="year_outside_period",
            params={
                "line": line,
                "year": target,
                "start": line.strategy.start_year,
                "end": line.strategy.end_year,
            },
        )
    if line.category not in percents:
        return ValidationError(
            _("%(association)s, %(category)s: there is no indexation rate for %(year)s."),
            code="indexation_rate_missing",
            params={
                "association": line.association,
                "category": line.get_category_display(),
                "year": target,
            },
        )
    exists = BudgetLine.objects.filter(
        strategy=line.strategy, association=line.association, year=target, category=line.category
    ).exists()
    if exists:
        return ValidationError(
            _("%(line)s: the year %(year)s already has this line."),
            code="line_exists",
            params={"line": line, "year": target},
        )
    return None


def _rows(queryset, *fields) -> list[tuple]:
    return sorted(queryset.values_list(*fields))


@transaction.atomic
def budget_items_load(*, document: dict) -> list[MunicipalBudgetItem]:
    """Create or replace a municipality's budget items of a year from a demo document.

    The document names the municipality, the year, the items with their allocations (recipient
    and realised amount) and what a report states, and the reallocations between the items.
    Loading it again replaces the items' allocations and reallocations, duplicating nothing.
    """
    place = document["municipality"]
    municipality, _created = Municipality.objects.update_or_create(
        slug=place["slug"], defaults={"name": place["name"], "short_name": place["short_name"]}
    )
    items = {}
    for entry in document["items"]:
        adopted = entry.get("adopted_amount")
        item, _created = MunicipalBudgetItem.objects.update_or_create(
            municipality=municipality,
            year=document["year"],
            name=entry["name"],
            defaults={
                "adopted_amount": Decimal(adopted) if adopted is not None else None,
                "note": entry.get("note", ""),
            },
        )
        allocations = [
            (position, recipient, Decimal(realised))
            for position, (recipient, realised) in enumerate(entry["allocations"])
        ]
        # Rows already as the document has them stay untouched: a published report may show
        # them, and it does not change (programs.publication).
        if _rows(item.allocations, "position", "recipient", "realised_amount") != allocations:
            item.allocations.all().delete()
            for position, recipient, realised in allocations:
                allocation = Allocation(
                    item=item, recipient=recipient, realised_amount=realised, position=position
                )
                allocation.full_clean()
                allocation.save()
        if stated := entry.get("stated"):
            StatedRealisation.objects.update_or_create(
                item=item,
                defaults={
                    "spent": Decimal(stated["spent"]),
                    "reallocated": Decimal(stated["reallocated"]),
                    "total": Decimal(stated["total"]),
                    "source": stated.get("source", ""),
                },
            )
        else:
            StatedRealisation.objects.filter(item=item).delete()
        items[item.name] = item
    moves = [
        (
            items[move["from"]].pk,
            items[move["to"]].pk,
            Decimal(move["amount"]),
            move.get("purpose", ""),
            move["reason"],
        )
        for move in document.get("reallocations", [])
    ]
    stored = Reallocation.objects.filter(source__in=[item.pk for item in items.values()])
    if _rows(stored, "source", "target", "amount", "purpose", "reason") != sorted(moves):
        stored.delete()
        for source, target, amount, purpose, reason in moves:
            reallocation = Reallocation(
                source_id=source, target_id=target, amount=amount, purpose=purpose, reason=reason
            )
            reallocation.full_clean()
            reallocation.save()
    return list(items.values())

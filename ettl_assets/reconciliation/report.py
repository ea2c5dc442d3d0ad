"""The ledger as people read it: a table per day (`ettl reconcile`, check metadata)."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ettl_assets.reconciliation.ledger import DROPPED, HOPS, QUARANTINED, UNEXPLAINED, Entry

TIER_ORDER = {tier: n for n, tier in enumerate(HOPS)}
HEADER = ("source", "tier", "asset", "measure", "in", "dropped by rule", "out", "unexplained")
NUMERIC = {4, 6, 7}  # right-aligned columns


@dataclass
class Hop:
    """One tier's equation for a source, day, asset and measure."""

    day: date
    source: str
    tier: str
    asset: str
    measure: str
    came_in: Decimal | None = None
    dropped: dict[str, Decimal] = field(default_factory=dict)
    went_out: Decimal | None = None
    unexplained: Decimal = Decimal(0)


def hops(entries: Iterable[Entry]) -> list[Hop]:
    found: dict[tuple, Hop] = {}
    for e in entries:
        key = (e.day, e.source, e.tier, e.asset, e.measure)
        hop = found.setdefault(key, Hop(*key))
        first, last = HOPS[e.tier]
        if e.hop == first:
            hop.came_in = e.amount
        elif e.hop == last:
            hop.went_out = e.amount
        elif e.hop in (DROPPED, QUARANTINED):
            hop.dropped[e.rule or e.hop] = e.amount
        elif e.hop == UNEXPLAINED:
            hop.unexplained = e.amount
    return sorted(
        found.values(),
        key=lambda h: (h.day, h.source, TIER_ORDER[h.tier], h.asset, h.measure),
    )


def number(value: Decimal | None) -> str:
    if value is None:
        return "?"
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


def rules_text(hop: Hop) -> str:
    return ", ".join(f"{rule} {number(n)}" for rule, n in hop.dropped.items()) or "-"


def _row(h: Hop) -> tuple[str, ...]:
    verdict = number(h.unexplained) + ("  FAIL" if h.unexplained else "")
    return (h.source, h.tier, h.asset, h.measure, number(h.came_in), rules_text(h),
            number(h.went_out), verdict)  # fmt: skip


def table_lines(day_hops: list[Hop]) -> list[str]:
    rows = [HEADER, *map(_row, day_hops)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    return [
        "  ".join(
            cell.rjust(width) if i in NUMERIC else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def failures(all_hops: Iterable[Hop]) -> list[str]:
    """What a failed check names: source, day, tier, hop and count."""
    return [
        f"{h.source} {h.day} {h.tier} {h.asset} {h.measure}: {number(h.unexplained)} "
        f"unexplained (in {number(h.came_in)}, dropped by rule: {rules_text(h)}, "
        f"out {number(h.went_out)})"
        for h in all_hops
        if h.unexplained
    ]


def report_lines(all_hops: list[Hop]) -> list[str]:
    """A table per day, then a verdict."""
    lines: list[str] = []
    for day in sorted({h.day for h in all_hops}):
        table = table_lines([h for h in all_hops if h.day == day])
        lines += [str(day), *("  " + line for line in table), ""]
    failed = failures(all_hops)
    if failed:
        lines += [f"{len(failed)} hop(s) with an unexplained difference:", *failed]
    else:
        days = len({h.day for h in all_hops})
        lines.append(f"every row accounted for: {len(all_hops)} hop(s) over {days} day(s)")
    return lines

"""Schema drift: how a delivery's columns differ from the contract, and from the delivery before.

A delivered schema is a list of (column, type) as the source sent it (types in the registry's
names; "null" when a column held no value to judge by). Bronze stores it with every partition
(bronze.py), which is what `ettl drift` reads back.
"""

from dataclasses import dataclass

from ettl_assets.bronze.registry import SourceSpec

DeliveredSchema = list[tuple[str, str]]

# Delivered type -> contract types that hold every value of it without loss (besides string,
# which holds any value as text).
LOSSLESS = {"bigint": {"double"}}


def fits(delivered: str, contract: str) -> bool:
    if delivered == contract or delivered == "null" or contract == "string":
        return True
    return contract in LOSSLESS.get(delivered, set())


@dataclass(frozen=True)
class Drift:
    kind: str  # added | missing | renamed | type_changed
    column: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} {self.column}: {self.detail}"


def contract_drift(spec: SourceSpec, delivered: DeliveredSchema) -> list[Drift]:
    """What a delivery does differently from the contract. An empty delivery has no schema."""
    if not delivered:
        return []
    types = dict(delivered)
    alias_of = spec.alias_of
    drift = []
    for column in spec.columns:
        names = [column.name] + [a for a, c in spec.aliases if c == column.name]
        present = [name for name in names if name in types]
        if not present:
            if column.name not in spec.optional:
                drift.append(Drift("missing", column.name, "declared, not delivered"))
            continue
        name = present[0]
        if name != column.name:
            drift.append(Drift("renamed", column.name, f"delivered as {name} (known alias)"))
        if not fits(types[name], column.data_type):
            drift.append(
                Drift("type_changed", name, f"delivered {types[name]}, contract {column.data_type}")
            )
    known = {c.name for c in spec.columns} | set(alias_of)
    for name, data_type in delivered:
        if name not in known:
            drift.append(Drift("added", name, f"not in the contract, delivered {data_type}"))
    return drift


def schema_changes(spec: SourceSpec, before: DeliveredSchema, after: DeliveredSchema) -> list[str]:
    """What changed from one delivered schema to the next (renames through known aliases)."""
    old, new = dict(before), dict(after)
    removed = [name for name in old if name not in new]
    added = [name for name in new if name not in old]
    alias_of = spec.alias_of
    changes = []
    for name in list(removed):
        # The same contract column under another name on both sides: a rename.
        target = alias_of.get(name, name)
        renamed_to = next((a for a in added if alias_of.get(a, a) == target), None)
        if renamed_to is not None:
            changes.append(f"renamed {name} -> {renamed_to}")
            removed.remove(name)
            added.remove(renamed_to)
    changes += [f"added {name} ({new[name]})" for name in added]
    changes += [f"removed {name}" for name in removed]
    for name in new:
        if name in old and "null" not in (old[name], new[name]) and old[name] != new[name]:
            changes.append(f"{name}: {old[name]} -> {new[name]}")
    return changes


def drift_history(
    spec: SourceSpec, schemas: list[tuple[str, DeliveredSchema]]
) -> list[tuple[str, list[str]]]:
    """(day, changes) for the first delivery and each day the delivered schema changed.

    `schemas` is (day, delivered schema) in date order; empty deliveries carry no schema and are
    passed over.
    """
    history: list[tuple[str, list[str]]] = []
    previous: DeliveredSchema | None = None
    for day, schema in schemas:
        if not schema:
            continue
        if previous is None:
            history.append((day, [f"first delivery: {len(schema)} columns"]))
        else:
            changes = schema_changes(spec, previous, schema)
            if changes:
                history.append((day, changes))
        previous = schema
    return history

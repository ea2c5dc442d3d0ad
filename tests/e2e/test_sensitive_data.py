"""Personal data stays in bronze: silver holds keyed hashes, gold aggregates (docs/security.md,
"Sensitive data"). Reads what the session's pipeline run built (tests/e2e/conftest.py)."""

import hashlib
import hmac
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

from ettl_assets import settings
from ettl_assets.bronze.registry import load_registry
from ettl_assets.pii_key import PII_KEY_ENV
from tests.e2e.helpers import PROJECT_ROOT, dbt

PASSENGERS = next(spec for spec in load_registry() if spec.name == "passengers")
PERSONAL = [c.name for c in PASSENGERS.columns if c.sensitivity in ("pii", "restricted")]


def read(path: Path) -> pa.Table:
    return ds.dataset(path, format="parquet", partitioning="hive").to_table()


def bronze_passengers() -> pa.Table:
    return read(settings.bronze_dir() / "passengers")


def leaks(table: pa.Table, personal: set[str]) -> dict[str, list[str]]:
    """Column -> personal values found in it (exact values, as text)."""
    found = {}
    for name in table.column_names:
        values = {str(v) for v in table.column(name).to_pylist() if v is not None}
        if values & personal:
            found[name] = sorted(values & personal)[:3]
    return found


def test_no_personal_value_from_bronze_is_in_any_silver_or_gold_table(pipeline):
    bronze = bronze_passengers()
    personal = {str(v) for c in PERSONAL for v in bronze.column(c).to_pylist() if v is not None}
    assert len(personal) > 10_000  # 7 days of names, e-mails, phones and dates of birth
    assert set(leaks(bronze, personal)) == set(PERSONAL)  # the scan finds what is there

    scanned, found = [], {}
    for database in sorted(settings.warehouse_dir().glob("*.db")):
        if database.name == "bronze.db":
            continue
        for table_dir in sorted(p for p in database.iterdir() if p.is_dir()):
            scanned.append(f"{database.stem}.{table_dir.name}")
            for column, values in leaks(read(table_dir), personal).items():
                found[f"{database.stem}.{table_dir.name}.{column}"] = values
    assert {"silver.stg_passengers__bookings", "gold.fct_daily_flight_fares"} <= set(scanned)
    assert len(scanned) >= 13, scanned  # every silver and gold table, and audit's
    assert not found, f"personal data in clear outside bronze: {found}"


def test_silver_has_the_keyed_hash_of_each_pii_value_and_no_restricted_column(pipeline):
    key = os.environ[PII_KEY_ENV].encode()
    bronze = bronze_passengers().to_pandas()
    silver = read(settings.warehouse_dir() / "silver.db" / "stg_passengers__bookings").to_pandas()
    assert "date_of_birth" not in silver.columns
    assert not {"passenger_name", "email", "phone"} & set(silver.columns)
    both = silver.merge(bronze, on="booking_id", validate="one_to_one")
    assert len(both) == len(silver) == len(bronze) > 0  # every booking delivered reached silver
    for column in ("passenger_name", "email", "phone"):
        expected = [hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in both[column]]
        assert both[f"{column}_hash"].tolist() == expected, column


def test_gold_fares_add_up_to_silver_bookings(pipeline):
    silver = read(settings.warehouse_dir() / "silver.db" / "stg_passengers__bookings").to_pandas()
    gold = read(settings.warehouse_dir() / "gold.db" / "fct_daily_flight_fares").to_pandas()
    assert gold["bookings"].sum() == len(silver)
    assert float(gold["revenue_usd"].sum()) == float(silver["fare_paid_usd"].sum())
    assert gold["channel_load_factor"].dropna().between(0, 1).all()


def test_each_tier_declares_its_readers_and_open_source_spark_refuses_grants(
    pipeline, tmp_path, monkeypatch
):
    manifest = json.loads((PROJECT_ROOT / "dbt_project/target/manifest.json").read_text())
    grants = {
        node["fqn"][1]: node["config"]["grants"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    assert grants == {"silver": {"select": ["engineers"]}, "gold": {"select": ["analysts"]}}
    # Asked to enforce them, dbt issues the tiers' GRANTs, starting with bronze's (the
    # on-run-start hook): Spark 4 has no SQL authorization and rejects the statement.
    monkeypatch.setenv("ETTL_APPLY_GRANTS", "true")
    output = dbt(["run", "--select", "dim_carriers"], "dbt-grants", tmp_path, expected_exit=2)
    assert "GRANT is not valid" in output
    assert "grant select on" in output.lower() and "platform" in output


def test_without_a_key_hashing_fails_with_what_to_set(pipeline, tmp_path, monkeypatch):
    monkeypatch.setenv(PII_KEY_ENV, "")
    inline = "select {{ pii_hash(\"'someone@example.org'\") }} as hashed"
    output = dbt(["show", "--inline", inline], "dbt-no-pii-key", tmp_path, expected_exit=2)
    assert f"no PII hashing key: set {PII_KEY_ENV}" in output

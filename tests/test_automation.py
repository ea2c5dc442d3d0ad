"""The daily schedule and the landing-file sensor, evaluated as the Dagster daemon would."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import fsspec
import pytest

from ettl_assets.definitions import defs


def test_daily_schedule_materializes_yesterday_of_every_tier():
    schedule = defs.resolve_schedule_def("all_tiers_daily_schedule")
    job = defs.resolve_job_def(schedule.job_name)
    assert job.asset_layer.selected_asset_keys == defs.resolve_asset_graph().get_all_asset_keys()
    now = datetime.now(UTC)  # the configured timezone of the repository's ettl.yaml
    today_at_six = now.replace(hour=6, minute=0, second=0, microsecond=0)
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=today_at_six
        )
        (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == (now.date() - timedelta(days=1)).isoformat()


@pytest.mark.parametrize("root", ["local", "memory://sensor-test"])
def test_sensor_requests_the_new_day_and_everything_downstream_of_it(tmp_path, monkeypatch, root):
    """On a local folder (modification times) and on a filesystem without them (memory://:
    content fingerprints), a new or re-delivered file is news, an unchanged one is not."""
    root = str(tmp_path / "landing") if root == "local" else root
    monkeypatch.setenv("ETTL_LANDING_ROOT", root)
    fs, base = fsspec.core.url_to_fs(root)
    fs.makedirs(f"{base}/flights", exist_ok=True)
    fs.pipe_file(f"{base}/flights/2013-01-01.csv", b"already there\n")
    fs.pipe_file(f"{base}/flights/2013-01-02.csv", b"first delivery\n")
    sensor = defs.resolve_sensor_def("landing_files")
    with dg.DagsterInstance.ephemeral() as instance:
        first = dg.build_sensor_context(instance=instance, definitions=defs)
        assert isinstance(sensor(first), dg.SkipReason)  # the baseline is not news

        fs.pipe_file(f"{base}/flights/2013-01-05.csv", b"new delivery\n")
        fs.pipe_file(f"{base}/flights/not-a-day.csv", b"ignored\n")
        fs.pipe_file(f"{base}/flights/2013-01-02.csv", b"delivered again, corrected\n")
        second = dg.build_sensor_context(instance=instance, cursor=first.cursor, definitions=defs)
        requests = sensor(second)
        third = dg.build_sensor_context(instance=instance, cursor=second.cursor, definitions=defs)
        assert sensor(third) == []  # nothing changed since
    fs.rm(base, recursive=True)
    assert [r.partition_key for r in requests] == ["2013-01-02", "2013-01-05"]
    request = requests[1]
    assert {key.to_user_string() for key in request.asset_selection} == {
        "bronze/flights",
        "silver/stg_flights__flights",
        "gold/fct_daily_carrier_performance",
        "gold/fct_daily_flight_fares",  # reads the flights too
        "gold/fct_daily_route_delays",
        "gold/fct_hourly_weather_delays",
        "reports/gold_report",  # re-rendered with the day's new gold
    }

"""The daily schedule and the landing-file sensor, evaluated as the Dagster daemon would."""

from datetime import datetime

import dagster as dg

from ettl_assets.definitions import defs


def test_daily_schedule_materializes_the_latest_day_of_every_tier():
    schedule = defs.resolve_schedule_def("all_tiers_daily_schedule")
    job = defs.resolve_job_def(schedule.job_name)
    assert job.asset_layer.selected_asset_keys == defs.resolve_asset_graph().get_all_asset_keys()
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=datetime(2014, 3, 1, 6)
        )
        (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2013-12-31"  # the last day of the sample data


def test_sensor_requests_the_new_day_and_everything_downstream_of_it(tmp_path, monkeypatch):
    monkeypatch.setenv("ETTL_DATA_DIR", str(tmp_path))
    landing = tmp_path / "landing" / "flights"
    landing.mkdir(parents=True)
    (landing / "2013-01-01.csv").write_text("already there\n")
    sensor = defs.resolve_sensor_def("landing_files")
    with dg.DagsterInstance.ephemeral() as instance:
        first = dg.build_sensor_context(instance=instance, definitions=defs)
        assert isinstance(sensor(first), dg.SkipReason)  # the baseline is not news

        (landing / "2013-01-05.csv").write_text("new delivery\n")
        (landing / "not-a-day.csv").write_text("ignored\n")
        second = dg.build_sensor_context(instance=instance, cursor=first.cursor, definitions=defs)
        (request,) = sensor(second)
    assert request.partition_key == "2013-01-05"
    assert {key.to_user_string() for key in request.asset_selection} == {
        "bronze/flights",
        "silver/stg_flights__flights",
        "gold/fct_daily_carrier_performance",
        "gold/fct_daily_flight_fares",  # reads the flights too
        "gold/fct_daily_route_delays",
        "gold/fct_hourly_weather_delays",
        "reports/gold_report",  # re-rendered with the day's new gold
    }

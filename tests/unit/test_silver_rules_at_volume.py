"""The ledger's silver rules, computed on key fingerprints one delivery at a time (so a year of
30x flights stays small in memory), against a row-by-row oracle written here in plain Python."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ettl_assets.reconciliation.ledger import (
    concat_versions,
    silver_days,
    silver_days_of_versions,
    versions,
)
from ettl_assets.reconciliation.rules import (
    DUPLICATE,
    FILED_UNDER_OTHER_DAY,
    OUTSIDE_WINDOW,
    SILVER,
)

FLIGHTS = SILVER["flights"]
FIRST = date(2013, 1, 30)
DELIVERY_DAYS = [FIRST + timedelta(n) for n in range(4)]
INGESTED = [datetime(2013, 2, 5, hour, tzinfo=UTC) for hour in (1, 2)]  # few: ties happen

rows = st.lists(
    st.fixed_dictionaries(
        {
            "partition_date": st.sampled_from(DELIVERY_DAYS),
            "_ingested_at": st.sampled_from(INGESTED),
            "file_suffix": st.sampled_from(["", "-resent"]),
            "carrier": st.sampled_from(["AA", "UA"]),
            # A number, or one with a carrier's prefix ("UA1" of UA is flight 1), or no number.
            "flight": st.sampled_from(["1", "2", "UA1", "AA2", "X1"]),
            "origin": st.just("JFK"),
            "year": st.just(2013),
            # Months 1-2, days 28-31: days in and out of the window, and impossible dates.
            "month": st.sampled_from([1, 2]),
            "day": st.sampled_from([28, 29, 30, 31, 1, 2, 3]),
            # None: a day with one missing time holds floats where other days hold ints.
            "sched_dep_time": st.sampled_from([600, 700, None]),
        }
    ),  # fmt: skip
    max_size=40,
)


def bronze_frame(generated: list[dict]) -> pd.DataFrame:
    records = [
        {**{k: v for k, v in row.items() if k != "file_suffix"},
         "_source_file": f"flights/{row['partition_date']}{row['file_suffix']}.csv"}
        for row in generated
    ]  # fmt: skip
    columns = ["partition_date", "_ingested_at", "_source_file", *FLIGHTS.columns]
    return pd.DataFrame(records, columns=columns)


def flight_number(carrier: str, flight: str) -> int | None:
    rest = flight[len(carrier) :] if flight.startswith(carrier) else flight
    return int(rest) if rest.isdigit() else None


def oracle(frame: pd.DataFrame, start: date, end: date) -> dict[date, tuple[int, dict]]:
    """Row by row: the latest version of a key wins (ingest time, then file name, latest
    first; the earlier row on a full tie), a row is filed under its own date."""
    records = frame.to_dict("records")
    order = sorted(
        range(len(records)),
        key=lambda i: (records[i]["_ingested_at"], records[i]["_source_file"]),
        reverse=True,
    )
    # sorted(reverse=True) keeps equal rows in their order, as a stable sort does.
    seen, written, duplicate, outside = set(), Counter(), Counter(), Counter()
    moved_out, moved_in, days = Counter(), Counter(), set()
    for i in order:
        row = records[i]
        key = (row["carrier"], flight_number(row["carrier"], row["flight"]), row["origin"],
               row["year"], row["month"], row["day"],
               None if pd.isna(row["sched_dep_time"]) else row["sched_dep_time"])  # fmt: skip
        is_duplicate = key in seen
        seen.add(key)
        try:
            filed = date(row["year"], row["month"], row["day"])
        except ValueError:
            filed = None
        delivered = row["partition_date"]
        written[delivered] += 1
        in_window = filed is not None and start <= filed < end
        duplicate[delivered] += is_duplicate
        outside[delivered] += not is_duplicate and not in_window
        if not is_duplicate and in_window:
            days.add(filed)
            if filed != delivered:
                moved_out[delivered] += 1
                moved_in[filed] += 1
        if start <= delivered < end:
            days.add(delivered)
    return {
        day: (written[day], {DUPLICATE: duplicate[day], OUTSIDE_WINDOW: outside[day],
                             FILED_UNDER_OTHER_DAY: moved_out[day] - moved_in[day]})
        for day in days
    }  # fmt: skip


def as_tuples(found) -> dict[date, tuple[int, dict]]:
    return {day: (d.bronze_written, d.dropped) for day, d in found.items()}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows, st.integers(0, 2), st.integers(1, 4))
def test_silver_days_equal_a_row_by_row_count(generated, first, length):
    frame = bronze_frame(generated)
    start = DELIVERY_DAYS[first]
    end = start + timedelta(length)
    expected = oracle(frame, start, end)

    assert as_tuples(silver_days(FLIGHTS, frame, start, end)) == expected
    # As the run's step reads them: one delivery day's file at a time, then put together.
    parts = [versions(FLIGHTS, part) for _, part in frame.groupby("partition_date")]
    if parts:
        together = silver_days_of_versions(concat_versions(parts), start, end)
        assert as_tuples(together) == expected

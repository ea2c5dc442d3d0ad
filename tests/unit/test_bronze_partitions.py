"""What a dbt step tells the bronze registration macro: the partition folders of its window."""

import json
from datetime import date

from ettl_assets.transform.bronze_partitions import (
    BRONZE_PARTITIONS_ENV,
    bronze_partitions_environment,
    day_ranges,
)


def test_consecutive_days_become_one_range_and_a_gap_starts_another():
    days = [date(2013, 1, d) for d in (5, 1, 2, 3, 7)]
    assert day_ranges(days) == [
        ["2013-01-01", "2013-01-03"],
        ["2013-01-05", "2013-01-05"],
        ["2013-01-07", "2013-01-07"],
    ]
    assert day_ranges([]) == []


def test_the_window_s_existing_folders_per_table_and_nothing_for_the_reference_step(tmp_path):
    for table, days in {
        "flights": ["2012-12-31", "2013-01-01", "2013-01-02", "2013-01-04", "2013-01-05"],
        "flights__quarantine": ["2013-01-02"],
        "weather": ["2013-01-06"],  # outside the window only
    }.items():
        for day in days:
            (tmp_path / table / f"partition_date={day}").mkdir(parents=True)
    (tmp_path / "airlines").mkdir()  # a snapshot: no partition folders
    window = {"start_date": "2013-01-01", "end_date": "2013-01-05"}  # [start, end)

    listed = json.loads(bronze_partitions_environment(tmp_path, window)[BRONZE_PARTITIONS_ENV])

    assert listed == {
        "flights": [["2013-01-01", "2013-01-02"], ["2013-01-04", "2013-01-04"]],
        "flights__quarantine": [["2013-01-02", "2013-01-02"]],
    }
    assert bronze_partitions_environment(tmp_path, None) == {BRONZE_PARTITIONS_ENV: "{}"}
    assert bronze_partitions_environment(tmp_path / "none", window) == {BRONZE_PARTITIONS_ENV: "{}"}

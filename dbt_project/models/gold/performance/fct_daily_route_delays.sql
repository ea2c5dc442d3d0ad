with

flights as (

    select * from {{ ref('stg_flights__flights') }}
    where {{ in_partition_window('flight_date') }}

),

airports as (

    select * from {{ ref('dim_airports') }}

),

routes as (

    select
        flight_date,
        origin_airport_code,
        dest_airport_code,
        count(*) as flights_scheduled,
        count_if(is_cancelled) as flights_cancelled,
        avg(dep_delay_minutes) as avg_dep_delay_minutes,
        avg(arr_delay_minutes) as avg_arr_delay_minutes,
        {{ on_time_arrival_rate('arr_delay_minutes') }} as on_time_arrival_rate,
        max(distance_miles) as distance_miles

    from flights
    group by flight_date, origin_airport_code, dest_airport_code

),

final as (

    select
        routes.origin_airport_code,
        routes.dest_airport_code,
        -- left join: a few destinations (Puerto Rico, Virgin Islands) are not in the snapshot.
        dest_airports.airport_name as dest_airport_name,
        routes.flights_scheduled,
        routes.flights_cancelled,
        routes.avg_dep_delay_minutes,
        routes.avg_arr_delay_minutes,
        routes.on_time_arrival_rate,
        routes.distance_miles,
        routes.flight_date  -- partition column, last (docs/design-decisions.md#d4)

    from routes
    left join airports as dest_airports
        on routes.dest_airport_code = dest_airports.airport_code

)

select * from final

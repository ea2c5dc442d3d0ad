with

bookings as (

    select * from {{ ref('stg_passengers__bookings') }}
    where {{ in_partition_window('flight_date') }}

),

flights as (

    select * from {{ ref('stg_flights__flights') }}
    where {{ in_partition_window('flight_date') }}

),

planes as (

    select * from {{ ref('dim_planes') }}

),

by_fare_class as (

    -- Counts and sums only: no passenger, not even pseudonymised, reaches gold.
    select
        flight_date,
        flight_id,
        fare_class,
        count(*) as bookings,
        sum(fare_paid_usd) as revenue_usd,
        avg(fare_paid_usd) as avg_fare_usd

    from bookings
    group by flight_date, flight_id, fare_class

),

final as (

    select
        by_fare_class.flight_id,
        flights.carrier_code,
        flights.flight_number,
        flights.origin_airport_code,
        flights.dest_airport_code,
        flights.scheduled_departure_at,
        by_fare_class.fare_class,
        by_fare_class.bookings,
        by_fare_class.revenue_usd,
        by_fare_class.avg_fare_usd,
        -- Seats of the aircraft flown (NULL when its tail number is not in the registry).
        planes.seat_count,
        sum(by_fare_class.bookings) over (
            partition by by_fare_class.flight_id
        ) / planes.seat_count as channel_load_factor,
        by_fare_class.flight_date  -- partition column, last (docs/design-decisions.md#d4)

    from by_fare_class
    inner join flights
        on by_fare_class.flight_id = flights.flight_id
    left join planes
        on flights.tailnum = planes.tailnum

)

select * from final

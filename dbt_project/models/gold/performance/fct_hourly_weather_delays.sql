with

flights as (

    select * from {{ ref('stg_flights__flights') }}
    where {{ in_partition_window('flight_date') }}

),

observations as (

    select * from {{ ref('stg_weather__observations') }}
    where {{ in_partition_window('observation_date') }}

),

departures_by_hour as (

    select
        flight_date,
        origin_airport_code,
        scheduled_departure_hour,
        count(*) as flights_scheduled,
        count_if(is_cancelled) as flights_cancelled,
        avg(dep_delay_minutes) as avg_dep_delay_minutes

    from flights
    group by flight_date, origin_airport_code, scheduled_departure_hour

),

weather_by_local_hour as (

    -- Flights are scheduled in local time. On the night clocks go back one local hour has two
    -- observations; they are averaged so the join stays one row per local hour.
    select
        observation_date,
        origin_airport_code,
        observation_hour,
        avg(precipitation_inches) as precipitation_inches,
        avg(visibility_miles) as visibility_miles,
        avg(wind_speed_mph) as wind_speed_mph

    from observations
    group by observation_date, origin_airport_code, observation_hour

),

final as (

    select
        departures_by_hour.origin_airport_code,
        departures_by_hour.scheduled_departure_hour,
        departures_by_hour.flights_scheduled,
        departures_by_hour.flights_cancelled,
        departures_by_hour.avg_dep_delay_minutes,
        weather_by_local_hour.precipitation_inches,
        weather_by_local_hour.visibility_miles,
        weather_by_local_hour.wind_speed_mph,
        departures_by_hour.flight_date  -- partition column, last (docs/design-decisions.md#d4)

    from departures_by_hour
    -- left join: an hour without an observation keeps its flights, with NULL weather.
    left join weather_by_local_hour
        on departures_by_hour.flight_date = weather_by_local_hour.observation_date
        and departures_by_hour.origin_airport_code = weather_by_local_hour.origin_airport_code
        and departures_by_hour.scheduled_departure_hour = weather_by_local_hour.observation_hour

)

select * from final

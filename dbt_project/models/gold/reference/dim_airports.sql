with

airports as (

    select * from {{ ref('stg_airports__airports') }}

),

final as (

    select
        airport_code,
        airport_name,
        latitude,
        longitude,
        altitude_feet,
        time_zone,
        airport_code in ('EWR', 'JFK', 'LGA') as is_nyc_origin

    from airports

)

select * from final

with

planes as (

    select * from {{ ref('stg_planes__planes') }}

),

final as (

    select
        tailnum,
        manufacturer,
        model,
        aircraft_type,
        engine_type,
        engine_count,
        seat_count,
        manufactured_year

    from planes

)

select * from final

with

source as (

    select * from {{ source('bronze', 'planes') }}

),

renamed as (

    select
        ---------- ids
        upper(trim(tailnum)) as tailnum,

        ---------- attributes
        year as manufactured_year,
        type as aircraft_type,
        manufacturer,
        model,
        engine as engine_type,

        ---------- measures
        engines as engine_count,
        seats as seat_count,
        speed as cruising_speed_mph,

        ---------- lineage
        _source_file,
        _ingested_at

    from source

),

deduplicated as (

    {{ deduplicate('renamed', ['tailnum']) }}

),

final as (

    select
        tailnum,
        manufactured_year,
        aircraft_type,
        manufacturer,
        model,
        engine_type,
        engine_count,
        seat_count,
        cruising_speed_mph,
        _source_file,
        _ingested_at

    from deduplicated

)

select * from final

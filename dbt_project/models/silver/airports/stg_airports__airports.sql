with

source as (

    select * from {{ source('bronze', 'airports') }}

),

renamed as (

    select
        ---------- ids
        upper(trim(faa)) as airport_code,

        ---------- attributes
        trim(name) as airport_name,
        lat as latitude,
        lon as longitude,
        alt as altitude_feet,
        tz as utc_offset_hours,
        dst as dst_rule,
        tzone as time_zone,

        ---------- lineage
        _source_file,
        _ingested_at

    from source

),

deduplicated as (

    {{ deduplicate('renamed', ['airport_code']) }}

),

final as (

    select
        airport_code,
        airport_name,
        latitude,
        longitude,
        altitude_feet,
        utc_offset_hours,
        dst_rule,
        time_zone,
        _source_file,
        _ingested_at

    from deduplicated

)

select * from final

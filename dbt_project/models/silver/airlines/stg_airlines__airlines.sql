with

source as (

    select * from {{ source('bronze', 'airlines') }}

),

renamed as (

    select
        ---------- ids
        upper(trim(carrier)) as carrier_code,

        ---------- attributes
        trim(name) as carrier_name,

        ---------- lineage
        _source_file,
        _ingested_at

    from source

),

deduplicated as (

    {{ deduplicate('renamed', ['carrier_code']) }}

),

final as (

    select
        carrier_code,
        carrier_name,
        _source_file,
        _ingested_at

    from deduplicated

)

select * from final

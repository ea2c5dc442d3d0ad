{#- Every bronze row renamed and typed. The row rules declared in _passengers__models.yml (key,
    window column, drops) then decide which rows silver keeps (macros/row_rules.sql). -#}
{% set normalized %}
    select
        ---------- ids
        trim(booking_id) as booking_id,
        upper(trim(carrier)) as carrier_code,
        flight as flight_number,
        upper(trim(origin)) as origin_airport_code,

        ---------- the booked flight's departure (same key as stg_flights__flights)
        departure_date as flight_date,
        {{ local_hhmm_to_utc('departure_date', 'sched_dep_time') }} as scheduled_departure_at,

        ---------- the passenger, pseudonymised
        passenger_name_hash,
        email_hash,
        phone_hash,

        ---------- the fare
        upper(trim(fare_class)) as fare_class,
        cast(fare_paid as decimal(10, 2)) as fare_paid_usd,
        booked_at,

        ---------- lineage
        _source_file,
        _ingested_at,
        partition_date

    from (
        -- Personal data leaves bronze only hashed; the date of birth (restricted) not at all.
        select
            {{ protected_columns('passengers', allow_restricted=[]) }},
            _source_file,
            _ingested_at,
            partition_date
        from {{ source('bronze', 'passengers') }}
    ) as source
{% endset %}

with

kept as (

    {{ apply_row_rules(normalized) }}

),

final as (

    select
        booking_id,
        {{ surrogate_key([
            'carrier_code', 'flight_number', 'origin_airport_code', 'scheduled_departure_at'
        ]) }} as flight_id,
        carrier_code,
        flight_number,
        origin_airport_code,
        scheduled_departure_at,
        passenger_name_hash,
        email_hash,
        phone_hash,
        fare_class,
        fare_paid_usd,
        booked_at,
        _source_file,
        _ingested_at,
        flight_date  -- partition column, last (docs/design-decisions.md#d4)

    from kept

)

select * from final

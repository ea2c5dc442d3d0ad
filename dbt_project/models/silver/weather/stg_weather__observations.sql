{#- Every bronze row renamed and typed. The row rules declared in _weather__models.yml (key,
    window column, drops) then decide which rows silver keeps (macros/row_rules.sql). -#}
{% set normalized %}
    select
        ---------- ids
        upper(trim(origin)) as origin_airport_code,

        ---------- dates and times
        -- time_hour is the UTC hour; year/month/day/hour are New York local time. On the night
        -- clocks go back, one local hour occurs twice, so the UTC hour is the key.
        cast(time_hour as timestamp) as observed_at,
        make_date(year, month, day) as observation_date,
        hour as observation_hour,

        ---------- measures (imperial units, as delivered)
        temp as temperature_f,
        dewp as dew_point_f,
        humid as relative_humidity_pct,
        wind_dir as wind_direction_degrees,
        wind_speed as wind_speed_mph,
        wind_gust as wind_gust_mph,
        precip as precipitation_inches,
        pressure as pressure_millibars,
        visib as visibility_miles,

        ---------- lineage
        _source_file,
        _ingested_at,
        partition_date

    from {{ source('bronze', 'weather') }}
{% endset %}

with

kept as (

    {{ apply_row_rules(normalized) }}

),

final as (

    select
        {{ surrogate_key(['origin_airport_code', 'observed_at']) }} as observation_id,
        origin_airport_code,
        observed_at,
        observation_hour,
        temperature_f,
        dew_point_f,
        relative_humidity_pct,
        wind_direction_degrees,
        wind_speed_mph,
        wind_gust_mph,
        precipitation_inches,
        pressure_millibars,
        visibility_miles,
        _source_file,
        _ingested_at,
        observation_date  -- partition column, last (docs/design-decisions.md#d4)

    from kept

)

select * from final

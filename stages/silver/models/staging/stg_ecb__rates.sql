-- ECB reference rates, typed and de-duplicated: one row per (rate_date, currency), the newest
-- extraction winning. Only rows of completed dlt loads are read. Casts are `try_cast`, so a
-- malformed value becomes NULL and fails a named not_null test instead of a bare cast error.

with completed_loads as (

    select distinct load_id
    from {{ source('bronze', 'dlt_loads') }}
    where status = 0

),

bronze as (

    select rates.*
    from {{ source('bronze', 'ecb_rates') }} as rates
    semi join completed_loads on rates._dlt_load_id = completed_loads.load_id

),

typed as (

    select
        try_cast(rate_date as date) as rate_date,
        currency,
        try_cast(trim(rate) as decimal(38, 18)) as rate,
        'ecb' as source,
        timezone('UTC', try_cast(extracted_at as timestamptz)) as extracted_at,
        document,
        _dlt_load_id as bronze_load_id
    from bronze

)

select *
from typed
qualify row_number() over (
    partition by rate_date, currency
    order by extracted_at desc nulls last, bronze_load_id desc
) = 1

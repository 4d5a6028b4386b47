-- ECB reference rates, typed and de-duplicated: each day from its newest extraction (so one
-- row per (rate_date, currency)). Only rows of completed dlt loads are read. Casts are `try_cast`, so a
-- malformed value becomes NULL and fails a named not_null test instead of a bare cast error.

with bronze as (

    select *
    from {{ bronze_table('ecb_rates', {
        'rate_date': 'varchar', 'currency': 'varchar', 'rate': 'varchar',
        'document': 'varchar', 'extracted_at': 'varchar', '_dlt_load_id': 'varchar',
    }) }}

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

-- distinct: a document that lists a day twice gives identical rows, kept once (two
-- different rates for one day and currency stay two, and fail the unique test)
select distinct *
from typed
{{ newest_extraction(['rate_date']) }}

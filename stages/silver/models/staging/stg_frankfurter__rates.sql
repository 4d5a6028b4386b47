-- Frankfurter's rates (the ECB's data through another door: the backup when an ECB document
-- is missing), typed and de-duplicated like stg_ecb__rates. A row whose base is not EUR gets
-- a NULL rate, which fails the not_null test: it would not be "per 1 EUR".

with bronze as (

    select *
    from {{ bronze_table('frankfurter_rates', {
        'rate_date': 'varchar', 'currency': 'varchar', 'rate': 'varchar', 'base': 'varchar',
        'request': 'varchar', 'extracted_at': 'varchar', '_dlt_load_id': 'varchar',
    }) }}

),

typed as (

    select
        try_cast(rate_date as date) as rate_date,
        currency,
        case when base = 'EUR' then try_cast(trim(rate) as decimal(38, 18)) end as rate,
        'frankfurter' as source,
        timezone('UTC', try_cast(extracted_at as timestamptz)) as extracted_at,
        request,
        _dlt_load_id as bronze_load_id
    from bronze

)

-- distinct: a document that lists a day twice gives identical rows, kept once (two
-- different rates for one day and currency stay two, and fail the unique test)
select distinct *
from typed
{{ newest_extraction(['rate_date']) }}

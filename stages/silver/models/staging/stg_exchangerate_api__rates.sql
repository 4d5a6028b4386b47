-- ExchangeRate-API's daily snapshot (independent of the ECB), re-based from USD to EUR:
-- rate per 1 EUR = (currency per USD) / (EUR per USD) of the same day, ONE exact division
-- (divide_exact, 18 places), never a float. A day without an EUR quote cannot be re-based
-- and is left out; a rate that is not positive becomes NULL (failing not_null). De-duplicated
-- per (rate_date, currency) before re-basing.

with bronze as (

    select *
    from {{ bronze_table('exchangerate_api_rates', {
        'rate_date': 'varchar', 'currency': 'varchar', 'rate': 'varchar', 'base': 'varchar',
        'published_at': 'varchar', 'extracted_at': 'varchar', '_dlt_load_id': 'varchar',
    }) }}

),

typed as (

    select
        try_cast(rate_date as date) as rate_date,
        currency,
        base,
        try_cast(trim(rate) as decimal(38, 18)) as rate_per_base,
        timezone('UTC', try_cast(published_at as timestamptz)) as published_at,
        timezone('UTC', try_cast(extracted_at as timestamptz)) as extracted_at,
        _dlt_load_id as bronze_load_id
    from bronze

),

deduplicated as (

    select distinct *  -- a currency listed twice, identically, is kept once
    from typed
    {{ newest_extraction(['rate_date']) }}

),

euro as (

    select rate_date, base, rate_per_base as euro_per_base
    from deduplicated
    where currency = 'EUR' and rate_per_base > 0

)

select
    deduplicated.rate_date,
    deduplicated.currency,
    case when deduplicated.rate_per_base > 0 then
        {{ divide_exact('deduplicated.rate_per_base', 'euro.euro_per_base', scale=18) }}
    end as rate,
    'exchangerate_api' as source,
    deduplicated.extracted_at,
    deduplicated.published_at,
    deduplicated.bronze_load_id
from deduplicated
inner join euro
    on deduplicated.rate_date = euro.rate_date and deduplicated.base = euro.base
where deduplicated.currency != 'EUR'

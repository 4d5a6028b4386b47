-- ExchangeRate-API's daily snapshot (independent of the ECB), re-based from USD to EUR:
-- rate per 1 EUR = (currency per USD) / (EUR per USD) of the same day, ONE exact division
-- (divide_exact, 18 places), never a float. A secondary source: a row that fails a check (a
-- rate that is not positive, two values for one day and currency, a day without a valid EUR
-- quote) is quarantined, as the official providers' are (stg_official_rates): kept with its
-- `quarantine_reason` and no rate, never published; the next snapshot of the day supersedes it.

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
        rate as published_rate,
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

checked as (

    select
        *,
        case
            when rate_per_base is null or rate_per_base <= 0 then 'rate is not a positive number'
            when count(distinct rate_per_base) over (partition by rate_date, currency) > 1
                then 'two different rates for one day'
        end as reason
    from deduplicated

),

euro as (

    select rate_date, base, rate_per_base as euro_per_base
    from checked
    where currency = 'EUR' and reason is null

),

quoted as (

    select
        checked.*,
        euro.euro_per_base,
        coalesce(checked.reason, case when euro.rate_date is null
            then 'no valid EUR quote that day to re-base through' end) as quarantine_reason
    from checked
    left join euro on checked.rate_date = euro.rate_date and checked.base = euro.base
    where checked.currency != 'EUR'

)

select
    rate_date,
    currency,
    case when quarantine_reason is null then
        {{ divide_exact('rate_per_base', 'euro_per_base', scale=18) }}
    end as rate,
    'exchangerate_api' as source,
    extracted_at,
    published_at,
    bronze_load_id,
    published_rate,
    '1' as units,
    quarantine_reason
from quoted

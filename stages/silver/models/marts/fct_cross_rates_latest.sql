-- The latest cross-rate matrix: for every pair of currencies in force on the newest rate
-- date (EUR included), units of `quote` per 1 `base` = quote per EUR / base per EUR, ONE
-- exact division (divide_exact, 28 places: at least 22 significant digits for every pair),
-- no rounding before it. History stays EUR-based in fct_rates; any other day's pair is the
-- same division over fct_rates_calendar.
{{ config(materialized='external', format='parquet') }}

with in_force as (

    select currency, rate, rate_date, source
    from {{ history('fct_rates_calendar') }}
    where calendar_date = (select max(rate_date) from {{ history('fct_rates') }})

    union all

    select 'EUR', 1, max(rate_date), 'ecb'
    from {{ history('fct_rates') }}

)

select
    (select max(rate_date) from {{ history('fct_rates') }}) as as_of_date,
    base.currency as base,
    quote.currency as quote,
    {{ divide_exact('quote.rate', 'base.rate', scale=28) }} as rate,
    base.rate_date as base_rate_date,
    quote.rate_date as quote_rate_date,
    base.source as base_source,
    quote.source as quote_source
from in_force as base
cross join in_force as quote
order by base, quote

-- For every calendar day and currency, the rate in force: the one of the nearest publication
-- on or before that day (`rate_date`), and how many days it was carried forward. After
-- var('carry_forward_days') days without a publication the currency has no rate (no row):
-- a currency that stopped being published (CYP, HRK, …) stops here two weeks later.
-- Days run up to today (UTC) or the last publication, the later.
--
-- Each publication covers the days until the currency's next publication, at most the carry
-- limit: one span per rate row, expanded to its days (linear in the output, no range join).
{{ config(materialized='external', format='parquet', location=run_location('fct_rates_calendar')) }}

with rates as (

    select rate_date, currency, rate, source
    from {{ ref('fct_rates') }}

),

spans as (

    select
        *,
        least(
            coalesce(
                lead(rate_date) over (partition by currency order by rate_date) - 1,
                (select greatest(max(rate_date), current_date) from rates)
            ),
            rate_date + {{ var('carry_forward_days') }}
        ) as last_day
    from rates

),

in_force as (

    select
        cast(unnest(generate_series(rate_date, last_day, interval 1 day)) as date) as calendar_date,
        currency,
        rate_date,
        rate,
        source
    from spans

)

select
    calendar_date,
    currency,
    rate_date,
    cast(calendar_date - rate_date as integer) as days_carried,
    rate,
    source
from in_force
order by calendar_date, currency

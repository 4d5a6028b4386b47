-- For every calendar day, the rate in force per provider: `blend` is fct_rates_calendar (the
-- published choice and consensus, its rows as they are), and every registry provider's own
-- series is its fct_observations carried the same way (macros/carry_forward.sql): a
-- publication covers the days until that provider's next publication of the currency, at
-- most var('carry_forward_days'); days run up to today (UTC) or the newest observation, the
-- later. EUR, the pivot of every series (rate 1), has no rows. What gold's DAY#<series>
-- items serve.
{{ config(materialized='partitioned', partition_by='calendar_date') }}

with observations as (

    select provider, rate_date, currency, rate
    from {{ history('fct_observations', neighbour_years('calendar', -1)) }}
    where currency != 'EUR' and {{ in_build('rate_date', 'calendar', var('carry_forward_days')) }}

),

carried as (

    {{ carry_forward('observations', keys=['provider', 'currency']) }}

),

series as (

    select 'blend' as provider, calendar_date, currency, rate_date, days_carried, rate
    from {{ ref('fct_rates_calendar') }}
    where currency != 'EUR'

    union all

    select provider, calendar_date, currency, rate_date, days_carried, rate
    from carried
    where {{ in_build('calendar_date', 'calendar') }}

)

select
    cast(provider as varchar) as provider,
    calendar_date,
    cast(currency as varchar) as currency,
    rate_date,
    cast(days_carried as integer) as days_carried,
    cast(rate as decimal(38, 18)) as rate
from series
order by provider, calendar_date, currency

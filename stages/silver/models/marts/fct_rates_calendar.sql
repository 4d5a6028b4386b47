-- For every calendar day and currency, the rate in force: the one of the nearest publication
-- on or before that day (`rate_date`), and how many days it was carried forward. After
-- var('carry_forward_days') days without a publication the currency has no rate (no row):
-- a currency that stopped being published (CYP, HRK, …) stops here two weeks later.
-- Days run up to today (UTC) or the last publication, the later.
--
-- Each publication covers the days until the currency's next publication, at most the carry
-- limit (macros/carry_forward.sql, shared with fct_provider_calendar).
{{ config(materialized='partitioned', partition_by='calendar_date') }}

with rates as (

    select rate_date, currency, rate, source
    from {{ history('fct_rates', neighbour_years('calendar', -1)) }}
    where {{ in_build('rate_date', 'calendar', var('carry_forward_days')) }}

),

in_force as (

    {{ carry_forward('rates', keys=['currency'], columns=['source']) }}

)

select calendar_date, currency, rate_date, days_carried, rate, source
from in_force
where {{ in_build('calendar_date', 'calendar') }}
order by calendar_date, currency

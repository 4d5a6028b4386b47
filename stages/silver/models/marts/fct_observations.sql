-- Every provider's accepted observation: what each one published on each day, as its
-- published string and scale and as an exact rate per 1 EUR, with the provider's pivot.
-- The long table behind fct_consensus, for comparing providers (`--provider` in the readers).
{{ config(materialized='partitioned', partition_by='rate_date') }}

select
    rates.rate_date,
    rates.source as provider,
    providers.pivot_currency,
    rates.currency,
    rates.published_rate,
    rates.units,
    rates.rate
from {{ ref('int_rates__unioned') }} as rates
inner join {{ ref('providers') }} as providers on providers.key = rates.source
where rates.quarantine_reason is null and rates.rate is not null
    and {{ in_build('rates.rate_date', 'daily') }}
order by rates.rate_date, rates.source, rates.currency

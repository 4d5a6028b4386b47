-- The registry with each provider's coverage in this publication: first and last day with an
-- accepted rate, how many currencies, how many rows are quarantined. What `makerates
-- providers` and the API's providers list serve.
{{ config(materialized='external', format='parquet') }}

with coverage as (

    select
        source,
        min(rate_date) filter (where quarantine_reason is null) as first_day,
        max(rate_date) filter (where quarantine_reason is null) as last_day,
        count(distinct currency) filter (where quarantine_reason is null) as currencies,
        count(*) filter (where quarantine_reason is not null) as rows_quarantined
    from {{ history('int_rates__unioned') }}
    group by source

)

select
    providers.key,
    providers.name,
    providers.kind,
    providers.pivot_currency,
    providers.history,
    providers.calendar,
    providers.publishes_at,
    providers.fallback_order,
    coverage.first_day,
    coverage.last_day,
    cast(coalesce(coverage.currencies, 0) as integer) as currencies,
    cast(coalesce(coverage.rows_quarantined, 0) as integer) as rows_quarantined
from {{ ref('providers') }} as providers
left join coverage on coverage.source = providers.key
order by providers.fallback_order, providers.key

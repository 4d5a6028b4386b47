-- Each registry provider's coverage per currency (fct_observations, EUR the pivot left out):
-- its first and last day with an accepted rate and how many it published. What gold's
-- META/PROVIDERS `currency_spans` serve.
{{ config(materialized='external', format='parquet') }}

select
    cast(provider as varchar) as provider,
    cast(currency as varchar) as currency,
    min(rate_date) as first_day,
    max(rate_date) as last_day,
    cast(count(*) as integer) as observations
from {{ history('fct_observations') }}
where currency != 'EUR'
group by provider, currency
order by provider, currency

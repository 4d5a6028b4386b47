-- Every secondary provider's row (an official bank's, ExchangeRate-API's) a check refused, with the check (`quarantine_reason`): kept
-- in bronze, left out of every rate table, counted in the run event (`rows_quarantined`) and
-- a WARNING line. A newer publication of the same day by the same provider supersedes it
-- (int_rates__unioned keeps each provider's day from its newest extraction), which empties
-- this table again; `just backfill START END` re-reads a provider's days on demand.
{{ config(materialized='external', format='parquet') }}

select
    rate_date,
    currency,
    source,
    published_rate,
    units,
    quarantine_reason,
    extracted_at,
    bronze_load_id
from {{ history('int_rates__unioned') }}
where quarantine_reason is not null
order by rate_date, source, currency

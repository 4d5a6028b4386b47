-- The consensus flags: every published rate an independent source contradicts by more than
-- var('consensus_threshold') (relative), with both values side by side for a person to judge.
-- The rates themselves stay published in fct_rates with is_flagged = true.
{{ config(materialized='external', format='parquet', location=run_location('fct_rate_flags')) }}

select
    rate_date,
    currency,
    source,
    rate,
    check_source,
    check_rate,
    deviation,
    cast({{ var('consensus_threshold') }} as decimal(38, 18)) as threshold
from {{ ref('fct_rates') }}
where is_flagged
order by rate_date, currency

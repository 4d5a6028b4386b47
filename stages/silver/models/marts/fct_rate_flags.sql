-- Every rate a second opinion contradicts, both values side by side for a person to judge:
-- `consensus_check`, a published rate ExchangeRate-API contradicts by more than
-- var('consensus_threshold') (the rate stays published in fct_rates with is_flagged = true);
-- `provider_outlier`, an official provider more than var('outlier_threshold') from the median
-- of the official providers that day (kept in fct_observations, left out of the agreement).
{{ config(materialized='partitioned', partition_by='rate_date') }}

select
    rate_date,
    currency,
    source,
    rate,
    check_source,
    check_rate,
    deviation,
    cast({{ var('consensus_threshold') }} as decimal(38, 18)) as threshold,
    'consensus_check' as flag
from {{ ref('fct_rates') }}
where is_flagged

union all

select
    observations.rate_date,
    observations.currency,
    consensus.providers as source,
    consensus.median_rate as rate,
    observations.provider as check_source,
    observations.rate as check_rate,
    abs({{ divide_exact('observations.rate', 'consensus.median_rate', scale=18) }} - 1)
        as deviation,
    cast({{ var('outlier_threshold') }} as decimal(38, 18)) as threshold,
    'provider_outlier' as flag
from {{ ref('fct_observations') }} as observations
inner join {{ ref('fct_consensus') }} as consensus using (rate_date, currency)
where observations.provider != 'ecb'
    and observations.provider in (select key from {{ ref('providers') }} where kind = 'official')
    and abs({{ divide_exact('observations.rate', 'consensus.median_rate', scale=18) }} - 1)
        > {{ var('outlier_threshold') }}
order by rate_date, currency

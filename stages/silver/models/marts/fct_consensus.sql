-- The reference rate of every (rate_date, currency) some official provider published, with
-- its provenance: the ECB's own where it publishes the currency that day; otherwise the median
-- of the official providers' rates per EUR (each through its own pivot, stg_official_rates).
-- The median is an observed value (quantile_disc: the lower middle one of an even count), so
-- the reference is always one provider's exact number, never an average. A provider whose
-- rate is more than var('outlier_threshold') (relative) from the median is an outlier: it is
-- flagged in fct_rate_flags and not counted as agreeing. `providers` lists the agreeing ones.
{{ config(materialized='partitioned', partition_by='rate_date') }}

with observations as (

    select rates.rate_date, rates.currency, rates.source as provider, rates.rate
    from {{ ref('int_rates__unioned') }} as rates
    inner join {{ ref('providers') }} as providers on providers.key = rates.source
    where providers.kind = 'official' and rates.source != 'ecb'
        and rates.quarantine_reason is null and rates.rate > 0 and rates.currency != 'EUR'
        and {{ in_build('rates.rate_date', 'daily') }}

),

medians as (

    select rate_date, currency, quantile_disc(rate, 0.5) as median_rate
    from observations
    group by rate_date, currency

),

scored as (

    select
        observations.*,
        medians.median_rate,
        abs({{ divide_exact('observations.rate', 'medians.median_rate', scale=18) }} - 1)
            as deviation
    from observations
    inner join medians using (rate_date, currency)

),

summary as (

    select
        rate_date,
        currency,
        any_value(median_rate) as median_rate,
        count(*) as n_providers,
        count(*) filter (where deviation <= {{ var('outlier_threshold') }}) as n_agreeing,
        string_agg(provider, '+' order by provider)
            filter (where deviation <= {{ var('outlier_threshold') }}) as providers,
        max(deviation) as max_deviation
    from scored
    group by rate_date, currency

),

ecb as (

    select rate_date, currency, rate
    from {{ ref('int_rates__unioned') }}
    where source = 'ecb' and {{ in_build('rate_date', 'daily') }}

)

select
    summary.rate_date,
    summary.currency,
    cast(coalesce(ecb.rate, summary.median_rate) as decimal(38, 18)) as rate,
    cast(if(ecb.rate is null, 'median', 'ecb') as varchar) as method,
    cast(if(ecb.rate is null, summary.providers, 'ecb') as varchar) as source,
    cast(summary.median_rate as decimal(38, 18)) as median_rate,
    cast(summary.n_providers as integer) as n_providers,
    cast(summary.n_agreeing as integer) as n_agreeing,
    cast(summary.providers as varchar) as providers,
    cast(summary.max_deviation as decimal(38, 18)) as max_deviation
from summary
left join ecb using (rate_date, currency)
order by rate_date, currency

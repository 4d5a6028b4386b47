-- The published rates: exactly one row per (rate_date, currency), written as one Parquet file
-- per year under {LAKE_URL}/silver/runs/{RUN_ID}/fct_rates/ (macros/partitioned.sql: only
-- the years the new bronze loads touch, unless a full build). The runner points
-- silver/published.json at them only after every test of `dbt build` passed.
--
-- Priority, chosen per (rate_date, currency) — per date, so a currency the ECB published long
-- ago (RUB until 2022) is still served from the other providers on the days it does not: the
-- ECB, then Frankfurter (the same ECB data; it fills days or currencies an ECB document
-- missed), then the official providers' consensus (fct_consensus: the median, `source` the
-- providers that agree with it, e.g. "cnb+nbp"), then ExchangeRate-API (ISO 4217 codes only:
-- the provider also quotes FOK, GGP, … which a warning test on its staging model lists).
-- Consensus check: where ExchangeRate-API quotes the same (day, currency) as a chosen rate of
-- another source, its relative deviation is kept beside the rate; above
-- var('consensus_threshold') the row is flagged, and kept.
{{ config(materialized='partitioned', partition_by='rate_date') }}

with rates as (

    select * from {{ ref('int_rates__unioned') }}
    where {{ in_build('rate_date', 'daily') }}

),

consensus as (

    select consensus.rate_date, consensus.currency, consensus.rate, consensus.source,
        max(rates.extracted_at) as extracted_at
    from {{ ref('fct_consensus') }} as consensus
    inner join rates
        on rates.rate_date = consensus.rate_date and rates.currency = consensus.currency
        and list_contains(string_split(consensus.source, '+'), rates.source)
    where consensus.method = 'median'
    group by all

),

candidates as (

    select rate_date, currency, rate, source, extracted_at,
        case source when 'ecb' then 1 else 2 end as priority
    from rates
    where source in ('ecb', 'frankfurter')
    union all
    select rate_date, currency, rate, source, extracted_at, 3 as priority
    from consensus
    union all
    select rate_date, currency, rate, source, extracted_at, 4 as priority
    from rates
    where source = 'exchangerate_api' and quarantine_reason is null
        and currency in (select code from {{ ref('iso_4217_currencies') }})

),

chosen as (

    select *
    from candidates
    qualify row_number() over (partition by rate_date, currency order by priority) = 1

),

checks as (

    select rate_date, currency, source as check_source, rate as check_rate
    from rates
    where source = 'exchangerate_api' and quarantine_reason is null

),

compared as (

    select
        chosen.*,
        checks.check_source,
        checks.check_rate,
        case
            when checks.check_rate is not null and chosen.source != checks.check_source
                then abs({{ divide_exact('checks.check_rate', 'chosen.rate', scale=18) }} - 1)
        end as deviation
    from chosen
    left join checks using (rate_date, currency)

)

select
    rate_date,
    currency,
    cast(rate as decimal(38, 18)) as rate,
    cast(source as varchar) as source,
    cast(extracted_at as timestamp) as extracted_at,
    cast(case when deviation is not null then check_source end as varchar) as check_source,
    cast(case when deviation is not null then check_rate end as decimal(38, 18)) as check_rate,
    cast(deviation as decimal(38, 18)) as deviation,
    coalesce(deviation > {{ var('consensus_threshold') }}, false) as is_flagged
from compared
order by rate_date, currency

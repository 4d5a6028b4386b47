-- Every provider's observations in one long form: units of `currency` per 1 EUR on
-- `rate_date`, one row per (rate_date, currency, source): each source's day from its newest
-- extraction. The secondary providers' rows (the official banks', ExchangeRate-API's) keep
-- their published string and scale, and a row one of their checks refused keeps its
-- `quarantine_reason` (and no rate): fct_quarantine lists those, every rate table leaves them
-- out, a newer publication of the day supersedes them.
--
-- Incremental by construction: the staging models read only the bronze loads that are new
-- since the last publication, and this model adds them to the rates that publication held in
-- the years those loads touch (previous_rates: its own yearly Parquet, published as silver's
-- state); the other years' files are carried forward by reference. So a daily run reads one
-- small bronze file and one year of state, not the whole history; `makerates-silver run
-- --full-refresh` rebuilds from every bronze load.
{{ config(materialized='partitioned', partition_by='rate_date') }}

{% set base_columns = ['rate_date', 'currency', 'rate', 'source', 'extracted_at', 'bronze_load_id'] %}
{% set columns = {
    'rate_date': 'date', 'currency': 'varchar', 'rate': 'decimal(38, 18)',
    'source': 'varchar', 'extracted_at': 'timestamp', 'bronze_load_id': 'varchar',
    'published_rate': 'varchar', 'units': 'varchar', 'quarantine_reason': 'varchar',
} %}
{#- The ECB's and its relay's models (blocking tests of their own), then the models that
    quarantine instead: one per official provider of the registry and the commercial check
    (tests/contract checks the lists cover the registry). -#}
{% set gated = ['stg_ecb__rates', 'stg_frankfurter__rates'] %}
{% set quarantining = [
    'stg_boc__rates', 'stg_nbp__rates', 'stg_cnb__rates', 'stg_nbu__rates',
    'stg_rba__rates', 'stg_imf__rates', 'stg_boi__rates', 'stg_bnr__rates',
    'stg_exchangerate_api__rates',
] %}

with new_rates as (

    {% for model in gated %}
    select {{ base_columns | join(', ') }},
        cast(null as varchar) as published_rate,
        cast(null as varchar) as units,
        cast(null as varchar) as quarantine_reason
    from {{ ref(model) }}
    union all
    {% endfor %}
    {% for model in quarantining %}
    select {{ columns.keys() | join(', ') }}
    from {{ ref(model) }}
    {{ "union all" if not loop.last }}
    {% endfor %}

),

merged as (

    select * from new_rates
    union all
    select * from {{ previous_rates(columns) }}

)

select
    rate_date,
    currency,
    cast(rate as decimal(38, 18)) as rate,
    cast(source as varchar) as source,
    cast(extracted_at as timestamp) as extracted_at,
    cast(bronze_load_id as varchar) as bronze_load_id,
    cast(published_rate as varchar) as published_rate,
    cast(units as varchar) as units,
    cast(quarantine_reason as varchar) as quarantine_reason
from merged
{{ newest_extraction(['rate_date', 'source']) }}
order by rate_date, currency, source

-- Every source's rates in one long form: units of `currency` per 1 EUR on `rate_date`,
-- one row per (rate_date, currency, source): each source's day from its newest extraction.
--
-- Incremental by construction: the staging models read only the bronze loads that are new
-- since the last publication, and this model adds them to the rates that publication held
-- (previous_rates: its own Parquet, published as silver's state). So a daily run reads one
-- small bronze file, not the whole history; `makerates-silver run --full-refresh` rebuilds
-- from every bronze load.
{{ config(materialized='external', format='parquet', location=run_location('int_rates__unioned')) }}

{% set columns = {
    'rate_date': 'date', 'currency': 'varchar', 'rate': 'decimal(38, 18)',
    'source': 'varchar', 'extracted_at': 'timestamp', 'bronze_load_id': 'varchar',
} %}

with new_rates as (

    {% for model in ['stg_ecb__rates', 'stg_frankfurter__rates', 'stg_exchangerate_api__rates'] %}
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
    cast(bronze_load_id as varchar) as bronze_load_id
from merged
{{ newest_extraction(['rate_date', 'source']) }}
order by rate_date, currency, source

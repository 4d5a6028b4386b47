-- The published silver table: exactly one row per (rate_date, currency), written as Parquet
-- to {LAKE_URL}/silver/runs/{RUN_ID}/fct_rates.parquet. The runner points
-- silver/published.json at it only after every test of `dbt build` passed.
{{
    config(
        materialized='external',
        format='parquet',
        location=env_var('LAKE_URL') ~ '/silver/runs/' ~ env_var('RUN_ID') ~ '/fct_rates.parquet',
    )
}}

select
    rate_date,
    currency,
    cast(rate as decimal(38, 18)) as rate,
    cast(source as varchar) as source,
    cast(extracted_at as timestamp) as extracted_at
from {{ ref('stg_ecb__rates') }}
order by rate_date, currency

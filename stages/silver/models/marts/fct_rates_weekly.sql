-- The mean rate per EUR of every week (Monday to Sunday, period_start the Monday) per provider
-- and currency: `blend` over fct_rates, every registry provider over its fct_observations;
-- sum / count as one exact division at 18 places (macros/rollup.sql). What gold's
-- WEEK#<series> items serve.
{{ config(materialized='partitioned', partition_by='period_start') }}

{{ rollup('week', 'weekly') }}

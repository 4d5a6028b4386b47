-- The mean rate per EUR of every calendar month (period_start the 1st) per provider and
-- currency: `blend` over fct_rates, every registry provider over its fct_observations;
-- sum / count as one exact division at 18 places (macros/rollup.sql). What gold's
-- MONTH#<series> items serve.
{{ config(materialized='partitioned', partition_by='period_start') }}

{{ rollup('month', 'daily') }}

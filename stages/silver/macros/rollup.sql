{#- The mean rate per EUR of each `period` ('week': Monday start, or 'month': the 1st) per
    provider and currency, over its publications: `blend` from fct_rates (the published
    rates), every registry provider from fct_observations; EUR (the pivot, rate 1) left out.
    rate = sum / count as ONE exact division (divide_exact, 18 places, truncated), never
    avg(), which DuckDB computes in DOUBLE. observations = how many publications,
    last_rate_date = the newest of them. Only the periods starting in a year `group`
    rebuilds (macros/partitioned.sql). A month lies within its year, so the monthly reads just
    those years; a week starting in December holds January's days, so the weekly reads the
    next years too (neighbour_years). -#}
{% macro rollup(period, group) %}
{%- set years = neighbour_years(group, 1) if period == 'week' else build_years(group) -%}
{%- set in_period = in_build("date_trunc('" ~ period ~ "', rate_date)", group) -%}

with publications as (

    select 'blend' as provider, rate_date, currency, rate
    from {{ history('fct_rates', years) }}
    where currency != 'EUR' and {{ in_period }}

    union all

    select provider, rate_date, currency, rate
    from {{ history('fct_observations', years) }}
    where currency != 'EUR' and {{ in_period }}

),

periods as (

    select
        provider,
        cast(date_trunc('{{ period }}', rate_date) as date) as period_start,
        currency,
        sum(rate) as total,
        count(*) as observations,
        max(rate_date) as last_rate_date
    from publications
    group by all

)

select
    cast(provider as varchar) as provider,
    period_start,
    cast(currency as varchar) as currency,
    {{ divide_exact('total', 'observations', scale=18) }} as rate,
    cast(observations as integer) as observations,
    last_rate_date
from periods
order by provider, period_start, currency

{% endmacro %}

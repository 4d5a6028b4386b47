-- Every currency fct_rates serves, named from the ISO 4217 seed, with its minor unit (for
-- showing money as money), its first and last served day, and the sources behind it.
{{ config(materialized='external', format='parquet') }}

with served as (

    select
        currency,
        min(rate_date) as first_day,
        max(rate_date) as last_day,
        string_agg(distinct source, ',' order by source) as sources
    from {{ history('fct_rates') }}
    group by currency

)

select
    iso.code,
    iso.name,
    iso.minor_units,
    served.first_day,
    served.last_day,
    served.sources
from {{ ref('iso_4217_currencies') }} as iso
inner join served on served.currency = iso.code
union all
select 'EUR', iso.name, iso.minor_units, min(first_day), max(last_day), 'pivot'
from {{ ref('iso_4217_currencies') }} as iso, served
where iso.code = 'EUR'
group by iso.name, iso.minor_units
order by 1

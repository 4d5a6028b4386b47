{#- An official provider's rates (bronze/<provider>_rates, written by
    makerates_bronze.providers.official), typed, de-duplicated and re-based to EUR.

    Each row says: `rate` units of the pivot for `units` units of `currency` (or, `inverse`,
    `rate` units of `currency` per 1 pivot). As a fraction n/d of pivot per unit of currency,
    the rate per 1 EUR is (n_EUR * d_currency) / (d_EUR * n_currency), the products exact in
    DECIMAL(38,18) and ONE exact division (divide_exact). The provider's own currency (the
    pivot) gets its rate per EUR too: n_EUR / d_EUR.

    Secondary data never blocks publication: a row that fails a check is kept with its
    `quarantine_reason` (and no rate), listed in fct_quarantine, and left out of every rate
    table; the provider's next publication of that day supersedes it (newest extraction). -#}
{% macro stg_official_rates(provider) %}

with bronze as (

    select *
    from {{ bronze_table(provider ~ '_rates', {
        'rate_date': 'varchar', 'currency': 'varchar', 'rate': 'varchar', 'units': 'varchar',
        'inverse': 'boolean', 'request': 'varchar', 'extracted_at': 'varchar',
        '_dlt_load_id': 'varchar',
    }) }}

),

typed as (

    select distinct
        try_cast(rate_date as date) as rate_date,
        currency,
        rate as published_rate,
        units,
        coalesce(inverse, false) as inverse,
        -- at most 9 decimals and 10 integer digits, so products of two stay exact
        try_cast(trim(rate) as decimal(19, 9)) as value,
        try_cast(trim(rate) as decimal(38, 18)) as value_full,
        try_cast(trim(units) as decimal(19, 9)) as scale,
        timezone('UTC', try_cast(extracted_at as timestamptz)) as extracted_at,
        _dlt_load_id as bronze_load_id
    from bronze
    {{ newest_extraction(['rate_date']) }}

),

checked as (

    select
        *,
        case
            when rate_date is null then 'rate_date is not a date'
            when rate_date > current_date + 1 then 'rate_date is in the future'
            when currency not in (select code from {{ ref('iso_4217_currencies') }})
                then 'currency is not an ISO 4217 code'
            when value is null or value <= 0 or value_full != value
                then 'rate is not a positive number of at most 9 decimals'
            when scale is null or scale <= 0 then 'units is not a positive number'
            when count(distinct value) over (partition by rate_date, currency) > 1
                then 'two different rates for one day'
        end as reason,
        case when inverse then scale else value end as pivot_n,
        case when inverse then value else scale end as pivot_d
    from typed

),

euro as (

    select rate_date, pivot_n as euro_n, pivot_d as euro_d, published_rate as euro_published
    from checked
    where currency = 'EUR' and reason is null

),

quotes as (

    select
        checked.rate_date,
        checked.currency,
        checked.published_rate,
        checked.units,
        checked.extracted_at,
        checked.bronze_load_id,
        coalesce(checked.reason, case when euro.rate_date is null
            then 'no valid EUR quote that day to re-base through' end) as quarantine_reason,
        euro.euro_n * checked.pivot_d as numerator,
        euro.euro_d * checked.pivot_n as denominator
    from checked
    left join euro using (rate_date)
    where checked.currency != 'EUR'

    union all

    select distinct
        euro.rate_date,
        (select pivot_currency from {{ ref('providers') }} where key = '{{ provider }}') as currency,
        euro.euro_published as published_rate,
        '1' as units,
        checked.extracted_at,
        checked.bronze_load_id,
        null as quarantine_reason,
        euro.euro_n as numerator,
        euro.euro_d as denominator
    from euro
    inner join checked on checked.rate_date = euro.rate_date and checked.currency = 'EUR'

)

select
    rate_date,
    currency,
    case when quarantine_reason is null then
        {{ divide_exact('numerator', 'denominator', scale=18) }}
    end as rate,
    '{{ provider }}' as source,
    extracted_at,
    bronze_load_id,
    published_rate,
    units,
    quarantine_reason
from quotes

{% endmacro %}

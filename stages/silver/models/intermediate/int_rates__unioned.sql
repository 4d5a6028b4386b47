-- Every source's rates in one long form: units of `currency` per 1 EUR on `rate_date`,
-- one row per (rate_date, currency, source).

{% set sources = ['stg_ecb__rates', 'stg_frankfurter__rates', 'stg_exchangerate_api__rates'] %}

{% for model in sources %}
select rate_date, currency, rate, source, extracted_at, bronze_load_id
from {{ ref(model) }}
{{ "union all" if not loop.last }}
{% endfor %}

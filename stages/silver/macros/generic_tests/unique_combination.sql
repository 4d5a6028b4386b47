{#- One row per combination of `columns` (dbt_utils' unique_combination_of_columns, which is
    not installable offline). Fails with one row per duplicated key. -#}
{% test unique_combination(model, columns) %}

select {{ columns | join(', ') }}, count(*) as n_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}

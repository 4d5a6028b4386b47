{#- Every value is a provider key of the registry, or several joined by `+`. Fails with one row
    per value naming an unknown provider. -#}
{% test source_is_providers(model, column_name) %}

select distinct {{ column_name }}
from {{ model }}, unnest(string_split({{ column_name }}, '+')) as parts(part)
where part not in (select key from {{ ref('providers') }})

{% endtest %}

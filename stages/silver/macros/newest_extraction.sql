{#- The de-duplication every staging model shares: per key, the row of the newest extraction
    wins, ties broken by the newer bronze load (dlt load ids sort by time). -#}
{% macro newest_extraction(keys) %}
    qualify row_number() over (
        partition by {{ keys | join(', ') }}
        order by extracted_at desc nulls last, bronze_load_id desc
    ) = 1
{% endmacro %}

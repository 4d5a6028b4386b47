{#- The model has exactly these columns with these DuckDB types ({column: type}); fails with
    one row per missing, extra or differently typed column. -#}
{% test column_types(model, expected) %}

with actual as (

    select column_name, column_type as data_type
    from (describe select * from {{ model }})

),

expected as (

    select * from (values
    {%- for name, type in expected.items() %}
        ('{{ name }}', '{{ type }}'){{ "," if not loop.last }}
    {%- endfor %}
    ) as t(column_name, data_type)

)

select
    column_name,
    expected.data_type as expected_type,
    actual.data_type as actual_type
from expected
full outer join actual using (column_name)
where expected.data_type is distinct from actual.data_type

{% endtest %}

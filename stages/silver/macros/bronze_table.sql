{#- A bronze table, or an empty relation with its columns when bronze holds no file of it yet.

    A source that is switched off or has never loaded has no files under bronze/<table>/, and
    DuckDB's read_json fails on a glob that matches nothing. `columns` is {name: type}, the
    same names the source's external_location declares. In parsing and in unit tests the
    source itself is rendered, so lineage and fixtures work as usual. -#}
{% macro bronze_table(table_name, columns) %}
    {%- if not execute or model.resource_type == 'unit_test' or bronze_has_files(table_name) -%}
        {{ source('bronze', table_name) }}
    {%- else -%}
        (select
        {%- for name, type in columns.items() %}
            cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
        where false)
    {%- endif -%}
{% endmacro %}

{% macro bronze_has_files(table_name) %}
    {%- set pattern = env_var('LAKE_URL') ~ '/bronze/' ~ table_name ~ '/*.jsonl.gz' -%}
    {%- set found = run_query("select count(*) from glob('" ~ pattern | replace("'", "''") ~ "')") -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{% endmacro %}

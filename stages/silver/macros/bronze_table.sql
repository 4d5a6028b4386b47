{#- The bronze rows of completed loads this run reads from `table_name` (bronze_files),
    for every staging model: the files of a load that crashed half-way are never read. -#}
{% macro bronze_table(table_name, columns) %}
    (select bronze_rows.*
    from {{ bronze_files(table_name, columns) }} as bronze_rows
    semi join {{ ref('stg_bronze__completed_loads') }} as loads
        on bronze_rows._dlt_load_id = loads.load_id)
{% endmacro %}

{#- The bronze files this run reads from `table_name`: those of the completed loads that are
    new since the last publication (all of them on a full refresh), as the runner lists them
    in $MAKERATES_BRONZE_<TABLE>_FILES (a DuckDB list of paths); an empty relation with the
    table's `columns` ({name: type}) when there are none — a source switched off, never
    loaded, or with nothing new. Parsing and unit tests render the source itself, so lineage
    and fixtures work as for any source. -#}
{% macro bronze_files(table_name, columns) %}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {{ source('bronze', table_name) }}
    {%- else -%}
        {%- set files = env_var('MAKERATES_BRONZE_' ~ table_name | upper ~ '_FILES', '') -%}
        {%- if files -%}
            read_json({{ files }}, format = 'newline_delimited', compression = 'gzip',
                columns = { {%- for name, type in columns.items() -%}
                    '{{ name }}': '{{ type }}'{{ ", " if not loop.last }}
                {%- endfor -%} })
        {%- else -%}
            {{ empty_relation(columns) }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}

{#- A relation with these columns ({name: type}) and no rows. -#}
{% macro empty_relation(columns) %}
    (select
    {%- for name, type in columns.items() %}
        cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
    {%- endfor %}
    where false)
{% endmacro %}

{#- The rates the last publication held in the years this run rebuilds (int_rates__unioned's
    files of that run: $MAKERATES_PREVIOUS_RATES, a DuckDB list of paths), to which this run
    adds the new bronze rows; empty on a full refresh, on the first run, in unit tests, and
    when those years held nothing. -#}
{% macro previous_rates(columns) %}
    {%- set files = env_var('MAKERATES_PREVIOUS_RATES', '') if execute and model.resource_type != 'unit_test' else '' -%}
    {%- if files -%}
        (select {{ columns.keys() | join(', ') }} from read_parquet({{ files }}, hive_partitioning = false))
    {%- else -%}
        {{ empty_relation(columns) }}
    {%- endif -%}
{% endmacro %}

{#- Year partitions (DESIGN.md, "Work in proportion to what is new").

    A partitioned mart holds, in this run, only the years it rebuilds: all of them on a full
    build; on an incremental one the years the new bronze loads touch, per `group`:
      daily    the years of the changed rate dates (the per-day marts and the monthly means),
      calendar those and the years their carry reaches (14 days on), and the current year,
      weekly   the years of the Mondays of the changed dates' weeks.
    The runner computes them and passes them, with the previous publication's files of the
    years it does not rebuild, as $MAKERATES_BUILD (JSON): {"years": {group: [year, …]},
    "carried": {mart: [[year, uri], …]}}. Read only while executing, never while parsing, so dbt's
    partial parse survives a change of it. -#}

{% macro build_plan() %}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {{ return({}) }}
    {%- endif -%}
    {{ return(fromjson(env_var('MAKERATES_BUILD', '{}') or '{}')) }}
{% endmacro %}

{#- The years `group` rebuilds, or none on a full build (every year). -#}
{% macro build_years(group) %}
    {%- set years = build_plan().get('years') -%}
    {{ return(none if years is none else years[group]) }}
{% endmacro %}

{#- A predicate: `date_expr` falls in a year `group` rebuilds (`true` on a full build). With
    `lookback_days`, also the rows within that many days before such a year (what a carry
    or a day-over-day comparison into it needs). -#}
{% macro in_build(date_expr, group, lookback_days=0) %}
    {%- set years = build_years(group) -%}
    {%- if years is none -%}
        true
    {%- elif not years -%}
        false
    {%- else -%}
        {%- set listed = years | join(', ') -%}
        (year({{ date_expr }}) in ({{ listed }})
        {%- if lookback_days %} or year({{ date_expr }} + {{ lookback_days }}) in ({{ listed }}){% endif -%})
    {%- endif -%}
{% endmacro %}

{#- The whole history of a partitioned mart: this run's rebuilt years (its relation) and the
    previous publication's files of the `years` it did not rebuild (all of them when `years`
    is none). -#}
{% macro history(mart, years=none) %}
    {%- set carried = build_plan().get('carried', {}).get(mart, {}) -%}
    {%- set files = [] -%}
    {%- for year, uri in carried if years is none or year in years -%}
        {%- do files.append("'" ~ uri | replace("'", "''") ~ "'") -%}
    {%- endfor -%}
    {%- if files -%}
        (select * from {{ ref(mart) }}
        union all by name
        select * from read_parquet([{{ files | join(', ') }}], hive_partitioning = false))
    {%- else -%}
        {{ ref(mart) }}
    {%- endif -%}
{% endmacro %}

{#- `group`'s years and their neighbours `step` away (-1: the years before, which a look-back
    reads; 1: the years after, into which a week starting in December runs); none on a full
    build. -#}
{% macro neighbour_years(group, step) %}
    {%- set years = build_years(group) -%}
    {%- if years is none -%}{{ return(none) }}{%- endif -%}
    {%- set wanted = [] -%}
    {%- for year in years -%}{%- do wanted.extend([year, year + step]) -%}{%- endfor -%}
    {{ return(wanted) }}
{% endmacro %}

{#- A mart written as one Parquet file per year of `partition_by` (a date column):
    {LAKE_URL}/silver/runs/{RUN_ID}/<mart>/year=<year>/data_0.parquet, the year in the path
    only (readers read with hive_partitioning = false). The relation downstream models and
    the tests read is a table in the run's DuckDB holding just the rebuilt years. No row at
    all writes a zero-row <mart>.empty.parquet instead (what the publication lists when no
    year has a row). -#}
{% materialization partitioned, adapter='duckdb' %}
    {%- set target = this.incorporate(type='table') -%}
    {%- set column = config.require('partition_by') -%}
    {%- set location = run_location(this.identifier, suffix='') -%}
    {{ drop_relation_if_exists(load_cached_relation(this)) }}
    {% call statement('main') -%}
        create table {{ target }} as (
{{ compiled_code }}
        )
    {%- endcall %}
    {%- set rows = run_query('select count(*) from ' ~ target) -%}
    {% call statement('write') -%}
        {% if rows[0][0] -%}
        copy (select *, year({{ column }}) as year from {{ target }})
        to '{{ location | replace("'", "''") }}' (format parquet, partition_by (year), overwrite_or_ignore)
        {%- else -%}
        copy {{ target }} to '{{ (location ~ ".empty.parquet") | replace("'", "''") }}' (format parquet)
        {%- endif %}
    {%- endcall %}
    {{ adapter.commit() }}
    {{ return({'relations': [target]}) }}
{% endmaterialization %}

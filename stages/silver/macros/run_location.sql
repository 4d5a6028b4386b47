{#- Where a mart of this run goes: {LAKE_URL}/silver/runs/{RUN_ID}/<name><suffix>. Every run
    writes its own folder; the runner publishes it only when the build passed. Read while
    executing only (never in a model's config, which is parsed): RUN_ID is new every run, and
    an environment variable read while parsing makes dbt re-parse that model each time. -#}
{% macro run_location(name, suffix='.parquet') %}
    {{- return(env_var('LAKE_URL') ~ '/silver/runs/' ~ env_var('RUN_ID') ~ '/' ~ name ~ suffix) -}}
{% endmacro %}

{#- dbt-duckdb's location of an external model that configures none: the run's folder. -#}
{% macro external_location(relation, config) %}
    {{- return(run_location(relation.identifier)) -}}
{% endmacro %}

{#- Where an external mart of this run goes: {LAKE_URL}/silver/runs/{RUN_ID}/<name>.parquet.
    Every run writes its own folder; the runner publishes it only when the build passed. -#}
{% macro run_location(name) %}
    {{- return(env_var('LAKE_URL') ~ '/silver/runs/' ~ env_var('RUN_ID') ~ '/' ~ name ~ '.parquet') -}}
{% endmacro %}

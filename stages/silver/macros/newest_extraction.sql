{#- The de-duplication every staging model shares: for each key (a day, or a day and a
    source), only the rows of its newest extraction are kept — ties broken by the newer bronze
    load (dlt load ids sort by time). A source publishes a day whole, and bronze loads a day
    again only whole (makerates_bronze.pipeline.whole_days), so the newest copy of a day is the
    complete day: a corrected rate replaces the old one, and a currency the correction no
    longer lists is gone. -#}
{% macro newest_extraction(keys) %}
    qualify dense_rank() over (
        partition by {{ keys | join(', ') }}
        order by extracted_at desc nulls last, bronze_load_id desc
    ) = 1
{% endmacro %}

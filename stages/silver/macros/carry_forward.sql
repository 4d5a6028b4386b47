{#- Every calendar day on which a publication of `relation` is in force, one row per day and
    `keys` (e.g. ['currency'], or ['provider', 'currency']): calendar_date, the keys, the
    publication's rate_date, days_carried (0 on a publication day), rate, and `columns`
    carried along unchanged.

    A publication covers the days until the next publication of the same keys, at most
    var('carry_forward_days') days after it; the last one runs up to the newest rate_date of
    `relation` or today (UTC), the later, within the same limit. One span per row, expanded
    to its days by generate_series: linear in the output, no range join. -#}
{% macro carry_forward(relation, keys, columns=[]) %}
    {%- set carried = keys + ['rate_date', 'rate'] + columns -%}
    select
        calendar_date,
        {{ keys | join(', ') }},
        rate_date,
        cast(calendar_date - rate_date as integer) as days_carried,
        rate{% for column in columns %},
        {{ column }}{% endfor %}
    from (
        select
            cast(unnest(generate_series(rate_date, last_day, interval 1 day)) as date) as calendar_date,
            {{ carried | join(', ') }}
        from (
            select
                {{ carried | join(', ') }},
                least(
                    coalesce(
                        lead(rate_date) over (partition by {{ keys | join(', ') }} order by rate_date) - 1,
                        (select greatest(max(rate_date), current_date) from {{ relation }})
                    ),
                    rate_date + {{ var('carry_forward_days') }}
                ) as last_day
            from {{ relation }}
        ) as spans
    ) as in_force
{%- endmacro %}

-- A currency moving by more than var('max_day_over_day_move') between two publications at
-- most var('carry_forward_days') apart (up or down: the larger of new/old and old/new, minus
-- one) is flagged and stops the publication: at the default 1.0 a rate that doubles or halves
-- overnight, as a rate published ×100 or with a shifted decimal point does. The largest
-- real move in the ECB's history is TRL on 2001-02-22 (+68%).

with moves as (

    select
        currency,
        source,
        rate_date,
        rate,
        lag(rate_date) over by_currency as previous_date,
        lag(rate) over by_currency as previous_rate
    from {{ history('fct_rates', neighbour_years('daily', -1)) }}
    where {{ in_build('rate_date', 'daily', var('carry_forward_days')) }}
    window by_currency as (partition by currency order by rate_date)

)

select
    currency,
    source,
    previous_date,
    previous_rate,
    rate_date,
    rate,
    greatest(rate / previous_rate, previous_rate / rate) - 1 as move
from moves
where {{ in_build('rate_date', 'daily') }}
    and previous_date >= rate_date - {{ var('carry_forward_days') }}
    and greatest(rate / previous_rate, previous_rate / rate) - 1 > {{ var('max_day_over_day_move') }}

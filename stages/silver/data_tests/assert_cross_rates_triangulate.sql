-- Triangulation: for every three currencies A, B, C of the latest matrix,
-- rate(A→B) × rate(B→C) = rate(A→C) within 1e-12 relative. Fails with one row per triple
-- that does not agree. (The check's arithmetic is in DOUBLE, 16 digits, ample for 1e-12;
-- the published rates are exact decimals.)

with matrix as (

    select base, quote, cast(rate as double) as rate
    from {{ ref('fct_cross_rates_latest') }}

)

select
    a_b.base as a,
    a_b.quote as b,
    b_c.quote as c,
    a_b.rate * b_c.rate as via_b,
    a_c.rate as direct
from matrix as a_b
inner join matrix as b_c on a_b.quote = b_c.base
inner join matrix as a_c on a_c.base = a_b.base and a_c.quote = b_c.quote
where abs(a_b.rate * b_c.rate / a_c.rate - 1) > 1e-12

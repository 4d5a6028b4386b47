{#- numerator / denominator as DECIMAL(38, scale), exact: ONE long division, truncated (toward
    zero) after `scale` places, never through a DOUBLE.

    DuckDB divides DECIMALs in DOUBLE, which would put a float between the published strings
    and the silver tables. Here both operands are taken as integers of 18 decimal places
    (DECIMAL(38,18) text without its point, as HUGEINT) and divided digit groups at a time:
    the integer part, then `chunk` digits per step from the remainder. Positive operands below
    10^20; the quotient must fit DECIMAL(38, scale) (below 10^(38 - scale)). -#}
{% macro divide_exact(numerator, denominator, scale=28, chunk=12) %}
    {%- set a = "cast(replace(cast(cast(" ~ numerator ~ " as decimal(38, 18)) as varchar), '.', '') as hugeint)" -%}
    {%- set b = "cast(replace(cast(cast(" ~ denominator ~ " as decimal(38, 18)) as varchar), '.', '') as hugeint)" -%}
    {%- set parts = ["cast(" ~ a ~ " // " ~ b ~ " as varchar)", "'.'"] -%}
    {%- set remainder = "(" ~ a ~ " % " ~ b ~ ")" -%}
    {%- set state = {"remainder": remainder, "left": scale} -%}
    {%- for _ in range((scale + chunk - 1) // chunk) -%}
        {%- set digits = [chunk, state.left] | min -%}
        {%- set shifted = "(" ~ state.remainder ~ " * " ~ (10 ** digits) ~ ")" -%}
        {%- do parts.append("lpad(cast(" ~ shifted ~ " // " ~ b ~ " as varchar), " ~ digits ~ ", '0')") -%}
        {%- do state.update({"remainder": "(" ~ shifted ~ " % " ~ b ~ ")", "left": state.left - digits}) -%}
    {%- endfor -%}
    cast({{ parts | join(" || ") }} as decimal(38, {{ scale }}))
{%- endmacro %}

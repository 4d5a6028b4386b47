-- Bank of Canada's rates per 1 EUR, through its pivot (see the stg_official_rates macro).
{{ stg_official_rates('boc') }}

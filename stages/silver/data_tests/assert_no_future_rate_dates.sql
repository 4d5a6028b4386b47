-- No rate may be dated after today (UTC, the profile's timezone): a publisher's future date
-- is a broken document, not a forecast.

select rate_date, currency, source
from {{ ref('fct_rates') }}
where rate_date > current_date

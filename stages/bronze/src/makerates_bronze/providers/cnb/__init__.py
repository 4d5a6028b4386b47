"""Czech National Bank: the koruna's daily fixing of about 30 currencies, CZK per 1, 100 or 1000."""

from makerates_bronze.providers.cnb import helpers
from makerates_bronze.providers.official import official_source

source = official_source("cnb", helpers.requests, helpers.parse)

"""Bank of Canada: daily indicative rates of two dozen currencies in CAD, from its Valet API."""

from makerates_bronze.providers.boc import helpers
from makerates_bronze.providers.official import official_source

source = official_source("boc", helpers.requests, helpers.parse)

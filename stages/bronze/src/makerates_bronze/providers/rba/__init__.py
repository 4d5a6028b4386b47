"""Reserve Bank of Australia: daily indicative rates of some twenty currencies per 1 AUD (F11.1)."""

from makerates_bronze.providers.official import official_source
from makerates_bronze.providers.rba import helpers

source = official_source("rba", helpers.requests, helpers.parse)

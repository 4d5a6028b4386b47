"""Bank of Israel: the shekel's daily representative rate of 14 currencies."""

from makerates_bronze.providers.boi import helpers
from makerates_bronze.providers.official import official_source

source = official_source("boi", helpers.requests, helpers.parse)

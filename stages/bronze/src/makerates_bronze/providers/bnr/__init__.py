"""Banca Națională a României: the leu's daily reference rates of about 36 currencies, in RON."""

from makerates_bronze.providers.bnr import helpers
from makerates_bronze.providers.official import official_source

source = official_source("bnr", helpers.requests, helpers.parse)

"""National Bank of Ukraine: the hryvnia's official rate of about 40 currencies, every day."""

from makerates_bronze.providers.nbu import helpers
from makerates_bronze.providers.official import official_source

source = official_source("nbu", helpers.requests, helpers.parse)

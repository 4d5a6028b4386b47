"""International Monetary Fund: the representative rates of about 35 currencies against USD."""

from makerates_bronze.providers.imf import helpers
from makerates_bronze.providers.official import official_source

source = official_source("imf", helpers.requests, helpers.parse)

"""Narodowy Bank Polski: average rates in PLN, table A daily and table B weekly, from its Web API."""

from makerates_bronze.providers.nbp import helpers
from makerates_bronze.providers.official import official_source

source = official_source("nbp", helpers.requests, helpers.parse, empty=(404, helpers.NO_DATA))

"""The official providers beyond the ECB: one package each, laid out as dlt's verified sources.

Each `<key>/helpers.py` holds the provider's pure logic: `requests(first, last)` (the paths,
relative to the provider's base URL, that cover the rate dates first..last) and
`parse(body, url)` (its real published format → `Observation`s). Each `<key>/__init__.py`
declares the provider's dlt source with `official.official_source`. The provider's facts
(name, pivot, base-URL setting, calendar) live in the registry,
`makerates_core/providers.csv`.
"""

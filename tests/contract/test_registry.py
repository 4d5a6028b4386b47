"""The provider registry is the one list: every provider in it has its pieces, and none more."""

from __future__ import annotations

import re

from contract_helpers import ROOT as REPO
from contract_helpers import load_yaml
from makerates_core import providers

SILVER = REPO / "stages" / "silver"
BRONZE_PROVIDERS = REPO / "stages" / "bronze" / "src" / "makerates_bronze" / "providers"
OFFICIAL = {p.key for p in providers.registry() if p.fallback_order == 3}


def test_every_provider_has_a_staging_model_in_the_union_and_a_bronze_source():
    union = (SILVER / "models" / "intermediate" / "int_rates__unioned.sql").read_text()
    listed = set(re.findall(r"'stg_(\w+?)__rates'", union))
    assert listed == set(providers.keys())
    staged = {p.name.removeprefix("stg_").removesuffix("__rates.sql")
              for p in (SILVER / "models" / "staging").glob("stg_*__rates.sql")}  # fmt: skip
    assert staged == set(providers.keys())
    sources = load_yaml(SILVER / "models" / "staging" / "__sources.yml")
    tables = {t["name"] for t in sources["sources"][0]["tables"]}
    assert {p.bronze_table for p in providers.registry()} <= tables


def test_every_official_provider_has_its_package_fixtures_and_mirror():
    packages = {p.name for p in BRONZE_PROVIDERS.iterdir() if (p / "helpers.py").is_file()}
    assert packages == OFFICIAL
    for key in OFFICIAL:
        assert (REPO / "tools" / "provider_mirror" / f"{key}.py").is_file(), key
        assert (REPO / "tools" / "fixtures" / "providers" / key / "README.md").is_file(), key
        init = (BRONZE_PROVIDERS / key / "__init__.py").read_text()
        assert f'official_source("{key}"' in init, key


def test_silver_reads_the_registry_itself_as_its_seed():
    seed = SILVER / "seeds" / "providers.csv"
    assert seed.is_symlink()
    assert seed.resolve() == (REPO / "core" / "src" / "makerates_core" / "providers.csv")
    assert {p.base_url_setting for p in providers.registry()} == {
        f"{p.key.upper()}_BASE_URL" for p in providers.registry()
    }

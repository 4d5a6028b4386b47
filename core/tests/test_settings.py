"""Settings from the environment: the source switch, the source URLs, one-line errors."""

from __future__ import annotations

import pytest
from makerates_core.errors import UserError
from makerates_core.settings import KNOWN_SOURCES, Settings


def test_defaults_enable_every_source_at_its_public_url():
    settings = Settings.from_env({})
    assert settings.sources == KNOWN_SOURCES
    assert KNOWN_SOURCES[:2] == ("ecb", "frankfurter") and KNOWN_SOURCES[-1] == "exchangerate_api"
    assert len(KNOWN_SOURCES) >= 11  # the ECB, its relay, eight official banks, the check
    assert settings.frankfurter_base_url == "https://api.frankfurter.dev"
    assert settings.exchangerate_api_base_url == "https://open.er-api.com"
    assert settings.base_url("boc") == "https://www.bankofcanada.ca"


def test_every_provider_base_url_is_its_registry_setting():
    settings = Settings.from_env({"BOC_BASE_URL": "http://127.0.0.1:1/boc/", "NBP_BASE_URL": ""})
    assert settings.base_url("boc") == "http://127.0.0.1:1/boc"
    assert settings.base_url("nbp") == "https://api.nbp.pl"


def test_sources_and_urls_are_read_from_the_environment():
    settings = Settings.from_env(
        {
            "SOURCES": " exchangerate_api, ecb ,ecb",
            "FRANKFURTER_BASE_URL": "http://127.0.0.1:1/frankfurter/",
            "EXCHANGERATE_API_BASE_URL": "http://127.0.0.1:1/erapi",
            "HTTP_TIMEOUT_SECONDS": "2.5",
        }
    )
    assert settings.sources == ("exchangerate_api", "ecb")
    assert settings.frankfurter_base_url == "http://127.0.0.1:1/frankfurter"
    assert settings.exchangerate_api_base_url == "http://127.0.0.1:1/erapi"
    assert settings.http_timeout_seconds == 2.5


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SOURCES": "ecb,fixer"}, "SOURCES='ecb,fixer' names unknown sources fixer; use a comma"),
        ({"SOURCES": " , "}, "names no source; use a comma list of ecb, frankfurter, boc, "),
        ({"HTTP_TIMEOUT_SECONDS": "soon"}, "HTTP_TIMEOUT_SECONDS='soon' is not a number"),
    ],
)
def test_bad_values_fail_in_one_line_naming_the_valid_ones(env, message):
    with pytest.raises(UserError, match=message) as err:
        Settings.from_env(env)
    assert "\n" not in str(err.value)

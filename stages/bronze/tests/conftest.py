"""Bronze test fixtures: settings for a tmp local lake fed by the ECB mirror."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from makerates_bronze.upstream import Limits
from makerates_core.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bronze_helpers


@pytest.fixture
def limits() -> Limits:
    """The default size limits and deadline, with short socket timeouts for loopback."""
    return Limits.of(Settings(http_timeout_seconds=5, http_deadline_seconds=30))


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    return tmp_path / "lake"


@pytest.fixture
def settings(lake: Path, tmp_path: Path, ecb_mirror) -> Settings:
    return Settings.from_env(
        {
            "LAKE_URL": str(lake),
            "HOT_STORE": str(tmp_path / "hot.sqlite3"),
            **ecb_mirror.env,
            "INITIAL_LOOKBACK_DAYS": "10",
            "HTTP_TIMEOUT_SECONDS": "10",
        }
    )

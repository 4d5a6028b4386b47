"""Runtime settings, read once from the environment.

Every stage reads the same names, so one `.env` (or one Kestra `env:` block) configures the
whole pipeline. Defaults are the embedded ones: a lake folder and a file-backed hot tier under
`./data`, so a fresh machine runs with nothing set.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from makerates_core import providers
from makerates_core.errors import UserError

# Bronze's sources, in the order a run loads them (the registry's fallback order): the ECB
# (primary), Frankfurter (its backup), the official providers, ExchangeRate-API (a check).
KNOWN_SOURCES = providers.keys()


def new_run_id() -> str:
    """A run id that sorts by start time: `20261126T194512Z-1a2b3c`."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def _number(env: dict[str, str], name: str, default: int | float) -> int | float:
    """A number setting, of the default's type (int or float)."""
    raw = env.get(name, "")
    if not raw:
        return default
    kind = type(default)
    try:
        return kind(raw)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise UserError(f"{name}={raw!r} is not {what}; set it to e.g. {default}") from None


def _sources(env: dict[str, str]) -> tuple[str, ...]:
    """SOURCES: a comma list of KNOWN_SOURCES, in the order given, without repeats."""
    raw = env.get("SOURCES", "")
    if not raw.strip():
        return KNOWN_SOURCES
    names = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = [name for name in names if name not in KNOWN_SOURCES]
    if unknown or not names:
        what = f"unknown sources {', '.join(unknown)}" if unknown else "no source"
        raise UserError(
            f"SOURCES={raw!r} names {what}; use a comma list of {', '.join(KNOWN_SOURCES)}"
        )
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class Settings:
    lake_url: str = "data/lake"
    s3_endpoint_url: str | None = None
    hot_store: str = "data/hot.sqlite3"
    dynamodb_endpoint_url: str | None = None
    table_prefix: str = "makerates_"
    aws_region: str = "us-east-1"
    # provider key → base URL: `<KEY>_BASE_URL`, else the registry's default
    base_urls: dict[str, str] = field(default_factory=dict)
    sources: tuple[str, ...] = KNOWN_SOURCES
    initial_lookback_days: int = 90
    http_timeout_seconds: float = 30.0  # each socket operation
    http_deadline_seconds: float = 120.0  # one whole request: connect, retries, every byte
    http_max_download_bytes: int = 16_000_000  # one document as sent (the ECB history: 0.6 MB)
    http_max_document_bytes: int = 64_000_000  # one document decoded (the ECB history: 1.9 MB)
    run_id: str = field(default_factory=new_run_id)

    def base_url(self, key: str) -> str:
        return self.base_urls.get(key) or providers.get(key).default_base_url

    @property
    def ecb_base_url(self) -> str:
        return self.base_url("ecb")

    @property
    def frankfurter_base_url(self) -> str:
        return self.base_url("frankfurter")

    @property
    def exchangerate_api_base_url(self) -> str:
        return self.base_url("exchangerate_api")

    @property
    def lake_is_s3(self) -> bool:
        return self.lake_url.startswith("s3://")

    @property
    def uses_dynamodb(self) -> bool:
        return self.hot_store == "dynamodb"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        lake_url = env.get("LAKE_URL") or cls.lake_url
        if not lake_url.startswith("s3://"):
            lake_url = str(Path(lake_url).expanduser().resolve())
        dynamodb_endpoint = env.get("DYNAMODB_ENDPOINT_URL") or None
        hot_store = env.get("HOT_STORE") or ("dynamodb" if dynamodb_endpoint else cls.hot_store)
        if hot_store != "dynamodb":
            hot_store = str(Path(hot_store).expanduser().resolve())
        return cls(
            lake_url=lake_url.rstrip("/"),
            s3_endpoint_url=env.get("S3_ENDPOINT_URL") or None,
            hot_store=hot_store,
            dynamodb_endpoint_url=dynamodb_endpoint,
            table_prefix=env.get("TABLE_PREFIX", cls.table_prefix),
            aws_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or cls.aws_region,
            base_urls={
                p.key: (env.get(p.base_url_setting) or p.default_base_url).rstrip("/")
                for p in providers.registry()
            },
            sources=_sources(env),
            initial_lookback_days=_number(env, "INITIAL_LOOKBACK_DAYS", cls.initial_lookback_days),
            http_timeout_seconds=_number(env, "HTTP_TIMEOUT_SECONDS", cls.http_timeout_seconds),
            http_deadline_seconds=_number(env, "HTTP_DEADLINE_SECONDS", cls.http_deadline_seconds),
            http_max_download_bytes=_number(
                env, "HTTP_MAX_DOWNLOAD_BYTES", cls.http_max_download_bytes
            ),
            http_max_document_bytes=_number(
                env, "HTTP_MAX_DOCUMENT_BYTES", cls.http_max_document_bytes
            ),
            run_id=env.get("RUN_ID") or new_run_id(),
        )


@contextlib.contextmanager
def scoped_environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for one library call (dlt, dbt read them), then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

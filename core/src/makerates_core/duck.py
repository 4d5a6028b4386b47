"""DuckDB connections that can read and write the lake, offline.

DuckDB loads only extensions built for its exact version and would download httpfs on first
use. The PyPI package `duckdb-extension-httpfs` carries the signed build for our pinned
DuckDB; we expose it in an extension directory of our own and turn autoinstall off, so an
`s3://` path autoloads it without touching the network.
"""

from __future__ import annotations

import contextlib
import importlib.util
import platform
from pathlib import Path
from urllib.parse import urlparse

import boto3
import duckdb

from makerates_core.settings import Settings

# DuckDB's HTTP bounds for the lake on S3 (seconds; retries on I/O errors), set explicitly.
HTTP_SETTINGS = {"http_timeout": 60, "http_retries": 3}
EXTENSION_ROOT = Path.home() / ".cache" / "makerates" / "duckdb_extensions"


def _platform() -> str:
    machine = platform.machine().lower()
    return "linux_arm64" if machine in ("aarch64", "arm64") else "linux_amd64"


def extension_directory() -> str:
    """A folder holding httpfs for this DuckDB version, created on first use."""
    version = f"v{duckdb.__version__}"
    spec = importlib.util.find_spec("duckdb_extension_httpfs")
    if spec is None or spec.origin is None:
        return str(EXTENSION_ROOT)
    shipped = Path(spec.origin).parent / "extensions" / version / "httpfs.duckdb_extension"
    target = EXTENSION_ROOT / version / _platform() / "httpfs.duckdb_extension"
    if shipped.exists() and not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # another process made it first
            target.symlink_to(shipped)
    return str(EXTENSION_ROOT)


def s3_secret_options(settings: Settings) -> dict[str, str]:
    """The options of a DuckDB `s3` secret for the configured endpoint and credentials."""
    options = {"REGION": settings.aws_region}
    credentials = boto3.Session().get_credentials()
    if credentials is not None:
        frozen = credentials.get_frozen_credentials()
        options["KEY_ID"] = frozen.access_key
        options["SECRET"] = frozen.secret_key
        if frozen.token:
            options["SESSION_TOKEN"] = frozen.token
    if settings.s3_endpoint_url:
        endpoint = urlparse(settings.s3_endpoint_url)
        options["ENDPOINT"] = endpoint.netloc or endpoint.path
        options["URL_STYLE"] = "path"
        options["USE_SSL"] = "true" if endpoint.scheme == "https" else "false"
    return options


def create_secret_sql(settings: Settings) -> str:
    def literal(value: str) -> str:
        return value if value in ("true", "false") else "'" + value.replace("'", "''") + "'"

    options = ", ".join(f"{k} {literal(v)}" for k, v in s3_secret_options(settings).items())
    return f"CREATE OR REPLACE SECRET makerates_lake (TYPE s3, {options})"


def connect(settings: Settings, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(
        database,
        config={
            "extension_directory": extension_directory(),
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": True,
        },
    )
    if settings.lake_is_s3:
        con.execute(create_secret_sql(settings))
        for name, value in HTTP_SETTINGS.items():
            con.execute(f"SET {name} = {value}")
    return con

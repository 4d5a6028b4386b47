"""A stage's stdout and stderr never carry a key, a password or a secret variable's value, and
the line that replaces it still says what failed and where."""

from __future__ import annotations

import os
import socket

import pytest
from security_helpers import run_stage

SECRETS = {
    "url_key": "SECRETKEY123",
    "apikey": "APIKEYVALUE42",
    "access_key": "ACCESSKEYVALUE7",
    "password": "URLPASSWORD99",
    "aws_secret": "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY00",
    "aws_token": "FwoGZXIvYXdzEXAMPLESESSIONTOKEN0000000",
    "kestra_secret": "S3cr3tFromKestraVault",
}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def env(tmp_path, ecb_mirror):
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "LAKE_", "HOT_", "DYNAMODB_", "S3_", "ECB_"))
    }
    return {
        **base,
        "LAKE_URL": str(tmp_path / "lake"),
        "HOT_STORE": str(tmp_path / "hot.sqlite3"),
        "HOME": str(tmp_path / "home"),
        "DO_NOT_TRACK": "1",
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "RUNTIME__LOG_LEVEL": "INFO",  # dlt's own log lines too
        "HTTP_TIMEOUT_SECONDS": "2",
        "SOURCES": "ecb",  # the one source the offline mirror serves
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": SECRETS["aws_secret"],
        "AWS_SESSION_TOKEN": SECRETS["aws_token"],
        "AWS_REGION": "us-east-1",
        "SECRET_EXCHANGERATE_API_KEY": SECRETS["kestra_secret"],  # Kestra's secret() variables
    }


def assert_no_secret(done) -> str:
    output = done.stdout + done.stderr
    leaked = [name for name, value in SECRETS.items() if value in output]
    assert leaked == [], f"{leaked} leaked:\n{output}"
    assert "Traceback" not in output, output
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def test_bronze_source_urls_with_keys(env):
    port = closed_port()
    ecb = (
        f"http://reader:{SECRETS['password']}@127.0.0.1:{port}/v6/{SECRETS['url_key']}"
        f"/stats?apikey={SECRETS['apikey']}&access_key={SECRETS['access_key']}&x="
    )
    keyed = {
        "ECB_BASE_URL": ecb,
        "EXCHANGERATE_API_BASE_URL": f"http://127.0.0.1:{port}/v6/{SECRETS['url_key']}",
        "FRANKFURTER_BASE_URL": f"http://127.0.0.1:{port}/?access_key={SECRETS['access_key']}",
        "SOURCES": "",  # every source bronze knows
    }
    done = run_stage({**env, **keyed}, "makerates-bronze", "run")
    assert done.returncode == 3
    assert "no source answered (ecb, " in assert_no_secret(done)
    ecb_line = next(line for line in done.stderr.splitlines() if "ECB_BASE_URL" in line)
    assert f"cannot fetch http://reader:***@127.0.0.1:{port}/v6/***/stats?apikey=***" in ecb_line


def test_bronze_succeeds_with_credentials_in_the_source_url(env, ecb_mirror):
    base = ecb_mirror.base_url.replace("http://", f"http://reader:{SECRETS['password']}@")
    ecb_mirror.fail_with = 503
    failed = run_stage({**env, "ECB_BASE_URL": base}, "makerates-bronze", "run")
    assert failed.returncode == 3
    assert "reader:***@127.0.0.1" in assert_no_secret(failed)

    ecb_mirror.fail_with = None
    done = run_stage(
        {**env, "ECB_BASE_URL": base, "INITIAL_LOOKBACK_DAYS": "60"}, "makerates-bronze", "run"
    )
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert not [name for name, value in SECRETS.items() if value in output], output


@pytest.mark.parametrize(
    "stage", ["makerates-bronze run", "makerates-silver run", "makerates-gold sync"]
)
def test_lake_endpoint_with_a_password(env, stage):
    port = closed_port()
    endpoint = f"http://lake:{SECRETS['password']}@127.0.0.1:{port}"
    done = run_stage(
        {**env, "LAKE_URL": "s3://makerates-lake/lake", "S3_ENDPOINT_URL": endpoint},
        *stage.split(),
    )
    assert done.returncode == 3, done.stderr
    error = assert_no_secret(done)
    assert f"lake:***@127.0.0.1:{port}" in error or "s3://makerates-lake/lake" in error, error


def test_hot_tier_endpoint_with_a_password(env):
    port = closed_port()
    env = {k: v for k, v in env.items() if k != "HOT_STORE"}  # the endpoint implies dynamodb
    done = run_stage(
        {**env, "DYNAMODB_ENDPOINT_URL": f"http://hot:{SECRETS['password']}@127.0.0.1:{port}"},
        "makerates",
        "runs",
    )
    assert done.returncode == 3, done.stderr
    assert f"hot:***@127.0.0.1:{port}" in assert_no_secret(done)


def test_a_failed_runs_stored_error_is_redacted(env, tmp_path):
    url = f"http://reader:{SECRETS['password']}@127.0.0.1:{closed_port()}/v6/{SECRETS['url_key']}"
    failed = run_stage({**env, "ECB_BASE_URL": url}, "makerates-bronze", "run")
    assert failed.returncode == 3
    stored = [p.read_text() for p in (tmp_path / "lake" / "runs").rglob("*.json")]
    assert len(stored) == 2 and not [v for v in SECRETS.values() if v in "".join(stored)], stored
    assert run_stage(env, "makerates-gold", "copy-events").returncode == 0  # as just pipeline
    shown = run_stage(env, "makerates", "runs")
    assert shown.returncode == 0, shown.stderr
    assert "failed" in shown.stdout
    assert not [name for name, value in SECRETS.items() if value in shown.stdout], shown.stdout

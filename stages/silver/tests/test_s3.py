"""Silver on an S3 lake, offline: moto's S3 API on loopback, read and written through httpfs."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
import requests
from makerates_core.duck import connect
from makerates_core.settings import Settings
from makerates_silver import cli, parse_cache
from makerates_silver.project import project_dir
from makerates_silver.runner import parquet
from moto.server import ThreadedMotoServer

BUCKET = "makerates-lake"
PREFIX = "team/lake"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto's backends are per process, not per server: start every test on an empty S3
    requests.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
        "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
        "S3_ENDPOINT_URL": endpoint,
        "LAKE_URL": f"s3://{BUCKET}/{PREFIX}",
        "HOT_STORE": str(tmp_path / "hot.sqlite3"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "RUN_ID", "DYNAMODB_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    yield client
    server.stop()


def upload(client, root: Path) -> None:
    """Copy a dlt-written local bronze folder into the bucket, byte for byte."""
    for path in sorted((root / "bronze").rglob("*")):
        if path.is_file():
            key = f"{PREFIX}/{path.relative_to(root).as_posix()}"
            client.put_object(Bucket=BUCKET, Key=key, Body=path.read_bytes())


def test_reads_bronze_and_publishes_parquet_on_s3(s3, bronze, capsys):
    extracted = datetime.now(UTC)  # source freshness refuses bronze older than 14 days
    bronze.load(bronze.rows("2024-03-01", "2024-03-28", extracted))
    bronze.load(bronze.rows("2024-03-25", "2024-03-28", extracted), complete=False)
    upload(s3, bronze.root)

    code = cli.main(["run"])
    _, err = capsys.readouterr()
    assert code == 0, err

    body = s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}/silver/published.json")["Body"].read()
    document = json.loads(body)
    run_id = document["run_id"]
    assert len(document["bronze_loads"]) == 1
    table_keys = document["tables"]["fct_rates"]
    assert table_keys == [f"silver/runs/{run_id}/fct_rates/year=2024/data_0.parquet"]
    keys = {
        o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/silver/")["Contents"]
    }
    assert keys == {
        f"{PREFIX}/silver/published.json",
        *(f"{PREFIX}/{key}" for keys in document["tables"].values() for key in keys),
        *(f"{PREFIX}/{key}" for keys in document["state"].values() for key in keys),
        *(
            f"{PREFIX}/silver/runs/{run_id}/artifacts/{name}"
            for name in ("manifest.json", "run_results.json", "sources.json")
        ),
        f"{PREFIX}/{parse_cache.key(project_dir())}",  # for the next run's new work folder
    }

    settings = Settings.from_env()
    with connect(settings) as con:
        files = [f"{settings.lake_url}/{key}" for key in table_keys]
        rows = con.execute(f"select rate_date, currency, rate from {parquet(files)}").fetchall()
    got = {(d.isoformat(), c): r for d, c, r in rows}
    want = {
        (day, currency): Decimal(rate)
        for day, rates in bronze.history().items()
        if "2024-03-01" <= day <= "2024-03-28"
        for currency, rate in rates.items()
    }
    assert got == want

    # nothing new: skipped, nothing written
    assert cli.main(["run"]) == 0
    assert "nothing new in bronze" in capsys.readouterr().err
    again = s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}/silver/published.json")["Body"].read()
    assert again == body


def test_a_failing_test_on_s3_keeps_published(s3, bronze, capsys):
    bronze.load(bronze.rows("2024-03-01", "2024-03-01", datetime.now(UTC)))
    upload(s3, bronze.root)
    assert cli.main(["run"]) == 0
    capsys.readouterr()
    key = f"{PREFIX}/silver/published.json"
    before = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()

    bad = bronze.rows("2024-03-04", "2024-03-04", datetime.now(UTC))
    bad[0]["rate"] = "-1"
    bronze.load(bad)
    upload(s3, bronze.root)
    assert cli.main(["run"]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "error: silver tests failed: rate_is_positive_stg_ecb__rates "
        "(1 failure: -1.000000000000000000); "
        "gold left unchanged"
    )
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == before


def test_bronze_the_credentials_may_not_read_is_one_line_and_a_failed_run(
    s3, bronze, capsys, monkeypatch
):
    from fault_proxy import Fault, FaultProxy

    bronze.load(bronze.rows("2024-03-01", "2024-03-01", datetime.now(UTC)))
    upload(s3, bronze.root)
    denied = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
    with FaultProxy(s3.meta.endpoint_url) as proxy:
        proxy.add(Fault("status", method="GET", path="prefix=team", status=403, body=denied))
        monkeypatch.setenv("S3_ENDPOINT_URL", proxy.url)
        code = cli.main(["run"])
    _, err = capsys.readouterr()

    assert code == 3
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in err, err
    assert errors[0].startswith(f"error: cannot list bronze under s3://{BUCKET}/{PREFIX}/bronze"), (
        err
    )
    assert "silver failed" in err  # the run event records the failure

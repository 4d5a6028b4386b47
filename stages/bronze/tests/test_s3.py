"""Bronze into an S3 lake (moto's S3 API on loopback): files land, and state resumes from S3."""

from __future__ import annotations

import gzip
import json
import shutil
from dataclasses import replace
from datetime import date

import boto3
import pytest
from bronze_helpers import published, triples
from makerates_bronze.pipeline import load


@pytest.fixture
def s3_settings(settings, monkeypatch):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name, value in {
        "AWS_ACCESS_KEY_ID": "bronze-test",
        "AWS_SECRET_ACCESS_KEY": "bronze-test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="lake")
    yield replace(settings, lake_url="s3://lake/prefix", s3_endpoint_url=endpoint)
    server.stop()


def s3_rows(settings, load_id: str) -> list[dict]:
    s3 = boto3.client("s3", endpoint_url=settings.s3_endpoint_url, region_name="us-east-1")
    listing = s3.list_objects_v2(Bucket="lake", Prefix=f"prefix/bronze/ecb_rates/{load_id}.")
    rows = []
    for obj in listing.get("Contents", []):
        assert obj["Key"].endswith(".jsonl.gz")
        body = s3.get_object(Bucket="lake", Key=obj["Key"])["Body"].read()
        rows.extend(json.loads(line) for line in gzip.decompress(body).splitlines())
    return rows


def test_s3_lake_lands_rows_and_a_fresh_container_resumes(
    s3_settings, ecb_mirror, ecb_history, tmp_path
):
    ecb_mirror.set_as_of("2024-03-28")
    first = load(s3_settings, today=date(2024, 3, 28), pipelines_dir=tmp_path / "dlt")
    assert set(triples(s3_rows(s3_settings, first.load_id))) == published(
        ecb_history, "2024-03-18", "2024-03-28"
    )

    shutil.rmtree(tmp_path / "dlt")
    ecb_mirror.set_as_of("2024-04-02")
    resumed = load(s3_settings, today=date(2024, 4, 2), pipelines_dir=tmp_path / "dlt")
    assert set(triples(s3_rows(s3_settings, resumed.load_id))) == published(
        ecb_history, "2024-04-02", "2024-04-02"
    )
    assert resumed.rows_loaded == len(published(ecb_history, "2024-04-02", "2024-04-02"))

"""Bronze into an S3 lake (moto's S3 API on loopback): files land, and state resumes from S3."""

from __future__ import annotations

import gzip
import json
import shutil
import uuid
from dataclasses import replace
from datetime import date

import boto3
import pytest
from bronze_helpers import published, triples
from makerates_bronze.pipeline import load, load_all


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
    bucket = f"lake-{uuid.uuid4().hex[:8]}"  # moto's buckets outlive its server in the process
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    yield replace(settings, lake_url=f"s3://{bucket}/prefix", s3_endpoint_url=endpoint)
    server.stop()


def s3_rows(settings, load_id: str, table: str = "ecb_rates") -> list[dict]:
    s3 = boto3.client("s3", endpoint_url=settings.s3_endpoint_url, region_name="us-east-1")
    bucket = settings.lake_url.removeprefix("s3://").split("/")[0]
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=f"prefix/bronze/{table}/{load_id}.")
    rows = []
    for obj in listing.get("Contents", []):
        assert obj["Key"].endswith(".jsonl.gz")
        body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
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


def test_every_source_lands_under_its_own_prefix_and_resumes_from_s3(
    s3_settings, ecb_mirror, ecb_history, tmp_path
):
    ecb_mirror.set_as_of("2024-03-28")
    first = load_all(s3_settings, today=date(2024, 3, 28), pipelines_dir=tmp_path / "dlt")
    assert not first.failed, first.failed
    expected = published(ecb_history, "2024-03-18", "2024-03-28")
    for name, table in (("ecb", "ecb_rates"), ("frankfurter", "frankfurter_rates")):
        rows = s3_rows(s3_settings, first.loaded[name].load_id, table)
        assert sorted(triples(rows)) == sorted(expected), name
    erapi = s3_rows(s3_settings, first.loaded["exchangerate_api"].load_id, "exchangerate_api_rates")
    assert len(erapi) == 162 and {r["rate_date"] for r in erapi} == {"2024-03-28"}

    shutil.rmtree(tmp_path / "dlt")  # a fresh container: every cursor comes back from S3
    ecb_mirror.set_as_of("2024-04-02")
    resumed = load_all(s3_settings, today=date(2024, 4, 2), pipelines_dir=tmp_path / "dlt")
    new_day = published(ecb_history, "2024-04-02", "2024-04-02")
    assert {
        n: resumed.loaded[n].rows_loaded for n in ("ecb", "frankfurter", "exchangerate_api")
    } == {
        "ecb": len(new_day),
        "frankfurter": len(new_day),
        "exchangerate_api": 162,
    }
    frankfurter = s3_rows(s3_settings, resumed.loaded["frankfurter"].load_id, "frankfurter_rates")
    assert set(triples(frankfurter)) == new_day

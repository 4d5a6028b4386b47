"""Real S3 and DynamoDB APIs for the integration tests: containers when a Docker engine answers,
moto's server on loopback when none does. Both providers give the same environment variables,
so every test runs unchanged against either.
"""

from __future__ import annotations

import contextlib
import os
import time
import urllib.request
from collections.abc import Iterator

import boto3

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "makerates-test",
    "AWS_SECRET_ACCESS_KEY": "makerates-test-secret",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
    "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
}
MINIO_IMAGE = "minio/minio:RELEASE.2025-04-22T22-12-26Z"
DYNAMODB_LOCAL_IMAGE = "amazon/dynamodb-local:2.5.4"


def docker_available() -> bool:
    """True when a Docker engine answers (not just a docker client on PATH)."""
    if os.environ.get("MAKERATES_TEST_PROVIDER") == "moto":
        return False
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


def _wait_http(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@contextlib.contextmanager
def _containers() -> Iterator[dict[str, str]]:
    from testcontainers.core.container import DockerContainer

    creds = DUMMY_CREDENTIALS
    minio = (
        DockerContainer(MINIO_IMAGE)
        .with_env("MINIO_ROOT_USER", creds["AWS_ACCESS_KEY_ID"])
        .with_env("MINIO_ROOT_PASSWORD", creds["AWS_SECRET_ACCESS_KEY"])
        .with_command("server /data")
        .with_exposed_ports(9000)
    )
    dynamo = DockerContainer(DYNAMODB_LOCAL_IMAGE).with_exposed_ports(8000)
    with minio, dynamo:
        s3 = f"http://{minio.get_container_host_ip()}:{minio.get_exposed_port(9000)}"
        ddb = f"http://{dynamo.get_container_host_ip()}:{dynamo.get_exposed_port(8000)}"
        _wait_http(f"{s3}/minio/health/live")
        _wait_http(ddb)
        yield {"S3_ENDPOINT_URL": s3, "DYNAMODB_ENDPOINT_URL": ddb, "provider": "containers"}


@contextlib.contextmanager
def _moto() -> Iterator[dict[str, str]]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        yield {"S3_ENDPOINT_URL": url, "DYNAMODB_ENDPOINT_URL": url, "provider": "moto"}
    finally:
        server.stop()


@contextlib.contextmanager
def aws_services() -> Iterator[dict[str, str]]:
    """Endpoints of a running S3 API and DynamoDB API, plus credentials for them."""
    provider = _containers if docker_available() else _moto
    with provider() as endpoints:
        yield {**DUMMY_CREDENTIALS, **endpoints}


def create_bucket(env: dict[str, str], bucket: str) -> None:
    boto3.client(
        "s3",
        endpoint_url=env["S3_ENDPOINT_URL"],
        region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    ).create_bucket(Bucket=bucket)

"""An S3 + DynamoDB API that enforces IAM (tests/security/iam_moto.py), one IAM user per stage
holding exactly that stage's policy from iam/, and an admin that provisions the lake and tables
(as compose's lake-init and hot-init do)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from makerates_core.hotstore import DynamoHotStore
from makerates_core.settings import Settings, scoped_environ

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1] / "iam")]

from render import POLICIES, render, values  # noqa: E402
from security_helpers import (  # noqa: E402
    ACCOUNT,
    ADMIN_POLICY,
    BUCKET,
    LAKE_URL,
    REGION,
    TABLE_PREFIX,
    EnforcingAws,
)


def _start(log: Path, server_log) -> tuple[subprocess.Popen, str]:
    """iam_moto.py prints its URL once it serves."""
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("iam_moto.py")), str(log)],
        stdout=subprocess.PIPE,
        stderr=server_log,
        text=True,
    )
    endpoint = process.stdout.readline().strip()
    if not endpoint.startswith("http://"):
        process.kill()
        raise RuntimeError(f"the IAM-enforcing moto server did not start: {endpoint!r}")
    return process, endpoint


@pytest.fixture(scope="session")
def enforcing_aws(tmp_path_factory) -> Iterator[EnforcingAws]:
    log = tmp_path_factory.mktemp("iam") / "calls.jsonl"
    log.touch()
    server_log = log.with_name("server.log").open("w")  # moto's request lines, for debugging
    process, endpoint = _start(log, server_log)
    try:
        bootstrap = boto3.client(
            "iam",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="bootstrap",
            aws_secret_access_key="bootstrap",
        )
        substitutions = values(LAKE_URL, TABLE_PREFIX, REGION, ACCOUNT)
        policies = {name: render(name, substitutions) for name in POLICIES}
        keys = {}
        for user, policy in {**policies, "admin": ADMIN_POLICY}.items():
            bootstrap.create_user(UserName=user)
            bootstrap.put_user_policy(
                UserName=user, PolicyName=f"makerates-{user}", PolicyDocument=json.dumps(policy)
            )
            key = bootstrap.create_access_key(UserName=user)["AccessKey"]
            keys[user] = {
                "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            }
        # From here on every request is authenticated and authorized.
        reset_auth = urllib.request.Request(
            f"{endpoint}/moto-api/reset-auth", data=b"0", headers={"Content-Type": "text/plain"}
        )
        urllib.request.urlopen(reset_auth, timeout=10)
        aws = EnforcingAws(endpoint, keys, log)
        aws.client("s3", "admin").create_bucket(Bucket=BUCKET)
        # the tables as compose's hot-init makes them, by the hot tier's own code
        admin = Settings(hot_store="dynamodb", dynamodb_endpoint_url=endpoint, aws_region=REGION)
        with scoped_environ({**keys["admin"], "AWS_SESSION_TOKEN": ""}):
            store = DynamoHotStore(admin)
            for name in ("rates", "runs"):
                store.ensure_table(f"{TABLE_PREFIX}{name}")
        yield aws
    finally:
        process.kill()
        process.wait()
        server_log.close()


@pytest.fixture(scope="module")
def stage_env(enforcing_aws: EnforcingAws, _ecb_mirror_server, tmp_path_factory):
    """The environment a stage runs with, holding the given IAM user's keys."""
    _ecb_mirror_server.reset()
    home = tmp_path_factory.mktemp("home")
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "LAKE_", "HOT_", "DYNAMODB_", "S3_", "TABLE_"))
    }
    base.update(
        {
            "ECB_BASE_URL": _ecb_mirror_server.base_url,
            "SOURCES": "ecb",  # the one source the offline mirror serves
            "LAKE_URL": LAKE_URL,
            "S3_ENDPOINT_URL": enforcing_aws.endpoint,
            "DYNAMODB_ENDPOINT_URL": enforcing_aws.endpoint,
            "TABLE_PREFIX": TABLE_PREFIX,
            "AWS_REGION": REGION,
            "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
            "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
            "DO_NOT_TRACK": "1",
            "RUNTIME__DLTHUB_TELEMETRY": "false",
            "HOME": str(home),
            "XDG_CACHE_HOME": str(home / ".cache"),
        }
    )

    def env_for(user: str, **extra: str) -> dict[str, str]:
        return {**base, **enforcing_aws.keys[user], **extra}

    return env_for

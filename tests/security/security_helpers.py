"""Shared by the security tests (imported by name: conftest.py puts this folder and iam/ on
sys.path, since the suite runs with --import-mode=importlib)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import boto3

BIN = Path(sys.executable).parent
ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
BUCKET = "makerates-lake"
LAKE_URL = f"s3://{BUCKET}/lake"
TABLE_PREFIX = "makerates_"
ADMIN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


@dataclass
class EnforcingAws:
    endpoint: str
    keys: dict[str, dict[str, str]]  # user -> AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
    calls_log: Path

    def client(self, service: str, user: str):
        key = self.keys[user]
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=key["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=key["AWS_SECRET_ACCESS_KEY"],
        )

    def _lines(self) -> list[str]:
        return self.calls_log.read_text(encoding="utf-8").splitlines()

    def mark(self) -> int:
        """Where the log ends now: `calls(user, since=mark)` is what happened after it."""
        return len(self._lines())

    def calls(self, user: str, since: int = 0, until: int | None = None) -> list[dict]:
        lines = self._lines()[since:until]
        return [c for c in map(json.loads, lines) if c["user"] == user]


def run_stage(env: dict[str, str], *command: str) -> subprocess.CompletedProcess:
    """A stage CLI (or any program of the venv) with exactly this environment."""
    return subprocess.run(
        [str(BIN / command[0]), *command[1:]], env=env, capture_output=True, text=True, timeout=600
    )

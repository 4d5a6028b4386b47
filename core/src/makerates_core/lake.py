"""The lake: a local folder by default, an S3 bucket (MinIO, AWS) when LAKE_URL is s3://.

Stages address files by key (`silver/published.json`); this module turns keys into the paths
DuckDB and dlt understand and does the few whole-object reads and writes the stages need.
Writes are atomic in both backends (a rename locally, a single PUT on S3), so a reader never
sees half a file.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from makerates_core.errors import UpstreamError
from makerates_core.settings import Settings


def s3_client(settings: Settings):
    # A session of its own: boto3's default session keeps the first credentials it resolved
    # for the life of the process; this one reads the environment as it is now.
    return boto3.session.Session().client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.aws_region,
        config=Config(
            connect_timeout=5,
            read_timeout=60,
            retries={"mode": "standard", "max_attempts": 4},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def _explain_s3(exc: Exception, where: str, settings: Settings) -> UpstreamError:
    if isinstance(exc, EndpointConnectionError):
        return UpstreamError(
            f"cannot reach the S3 endpoint {settings.s3_endpoint_url or 'of AWS'} ({where}); "
            "start it or fix S3_ENDPOINT_URL"
        )
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchBucket", "404"):
            return UpstreamError(f"bucket of {settings.lake_url} does not exist; create it first")
        if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            return UpstreamError(
                f"access denied to {where}; check the AWS credentials and the stage's IAM policy"
            )
        return UpstreamError(f"S3 said {code} for {where}: {exc}")
    return UpstreamError(f"S3 failed for {where}: {exc}")


@dataclass(frozen=True)
class Lake:
    settings: Settings

    @property
    def url(self) -> str:
        return self.settings.lake_url

    @property
    def is_s3(self) -> bool:
        return self.settings.lake_is_s3

    @cached_property
    def _bucket_and_prefix(self) -> tuple[str, str]:
        parsed = urlparse(self.url)
        return parsed.netloc, parsed.path.strip("/")

    @cached_property
    def _s3(self):
        return s3_client(self.settings)

    def uri(self, key: str) -> str:
        """The full path or s3:// URL of a key, as DuckDB and dlt want it."""
        return f"{self.url}/{key.lstrip('/')}"

    def _object_key(self, key: str) -> str:
        prefix = self._bucket_and_prefix[1]
        return f"{prefix}/{key}" if prefix else key

    def read_text(self, key: str) -> str | None:
        """The object's text, or None when it does not exist."""
        if not self.is_s3:
            path = Path(self.uri(key))
            return path.read_text(encoding="utf-8") if path.exists() else None
        bucket = self._bucket_and_prefix[0]
        try:
            body = self._s3.get_object(Bucket=bucket, Key=self._object_key(key))["Body"]
            return body.read().decode("utf-8")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise _explain_s3(exc, self.uri(key), self.settings) from exc
        except BotoCoreError as exc:
            raise _explain_s3(exc, self.uri(key), self.settings) from exc

    def write_text(self, key: str, text: str) -> None:
        if not self.is_s3:
            path = Path(self.uri(key))
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, path)
            return
        try:
            self._s3.put_object(
                Bucket=self._bucket_and_prefix[0],
                Key=self._object_key(key),
                Body=text.encode("utf-8"),
            )
        except (ClientError, BotoCoreError) as exc:
            raise _explain_s3(exc, self.uri(key), self.settings) from exc

    def list_keys(self, prefix: str) -> list[str]:
        """Keys under a prefix, relative to the lake root, sorted."""
        if not self.is_s3:
            root = Path(self.url)
            base = root / prefix
            if not base.exists():
                return []
            return sorted(p.relative_to(root).as_posix() for p in base.rglob("*") if p.is_file())
        bucket, lake_prefix = self._bucket_and_prefix
        strip = len(lake_prefix) + 1 if lake_prefix else 0
        keys: list[str] = []
        try:
            pages = self._s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=self._object_key(prefix)
            )
            for page in pages:
                keys.extend(obj["Key"][strip:] for obj in page.get("Contents", []))
        except (ClientError, BotoCoreError) as exc:
            raise _explain_s3(exc, self.uri(prefix), self.settings) from exc
        return sorted(keys)

    def delete_prefix(self, prefix: str) -> None:
        """Remove a folder of the lake (only used on silver's unpublished run folders)."""
        if not self.is_s3:
            base = Path(self.uri(prefix))
            for path in sorted(base.rglob("*"), reverse=True) if base.exists() else []:
                path.unlink() if path.is_file() else path.rmdir()
            if base.exists():
                base.rmdir()
            return
        bucket = self._bucket_and_prefix[0]
        keys = [self._object_key(k) for k in self.list_keys(prefix)]
        for start in range(0, len(keys), 1000):
            chunk = [{"Key": k} for k in keys[start : start + 1000]]
            self._s3.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})

    def check(self) -> None:
        """Fail early, in one line, when the lake cannot be used."""
        if not self.is_s3:
            Path(self.url).mkdir(parents=True, exist_ok=True)
            return
        try:
            self._s3.head_bucket(Bucket=self._bucket_and_prefix[0])
        except (ClientError, BotoCoreError) as exc:
            raise _explain_s3(exc, self.url, self.settings) from exc

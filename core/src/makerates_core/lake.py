"""The lake: a local folder by default, an S3 bucket (MinIO, AWS) when LAKE_URL is s3://.

Stages address files by key (`silver/published.json`); this module turns keys into the paths
DuckDB and dlt understand and does the few whole-object reads and writes the stages need.
Writes are atomic in both backends (a rename locally, a single PUT on S3), so a reader never
sees half a file. `read_versioned` + `swap_text` are a compare-and-swap for the one document
two writers may race on (silver/published.json): the later writer fails instead of silently
overwriting the earlier.
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
import time
import uuid
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from makerates_core.errors import PublishConflict, UpstreamError
from makerates_core.settings import Settings

# Every S3 call's bounds, set explicitly (boto3 here, s3fs under dlt in bronze): a connect,
# a read, and a retry budget; DuckDB's own (silver) are in makerates_core.duck.
S3_TIMEOUTS = {
    "connect_timeout": 5,
    "read_timeout": 60,
    "retries": {"mode": "standard", "max_attempts": 4},
}


def s3_client(settings: Settings):
    # A session of its own: boto3's default session keeps the first credentials it resolved
    # for the life of the process; this one reads the environment as it is now.
    return boto3.session.Session().client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.aws_region,
        config=Config(
            **S3_TIMEOUTS,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


# A folder swap's claim lives for milliseconds (claim, compare, rename); one older than this was
# left by a writer that died in between, and is taken over rather than blocking every publish.
STALE_CLAIM_SECONDS = 600
# S3 answers a conditional PUT that lost with 412, or 409 while another conditional write of
# the key is in flight; and 404 for IfMatch on a key deleted meanwhile.
LOST_SWAP = {"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "412", "409"}


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _claim(path: Path) -> bool:
    """Create `path` exclusively (O_EXCL: atomic on local disks and NFS); False if it exists."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"{socket.gethostname()} {os.getpid()}\n")  # who claimed, for people
    return True


def _abandoned(claim: Path) -> bool:
    """A claim older than STALE_CLAIM_SECONDS (or gone already): move it aside, atomically, so
    that of several writers taking it over only one O_EXCL create wins afterwards."""
    try:
        if time.time() - claim.stat().st_mtime < STALE_CLAIM_SECONDS:
            return False
        aside = claim.with_name(f"{claim.name}.stale-{uuid.uuid4().hex[:8]}")
        os.rename(claim, aside)
        aside.unlink()
    except FileNotFoundError:
        pass  # released or taken over meanwhile: the claim below decides
    return True


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
        data = self.read_bytes(key)
        return None if data is None else data.decode("utf-8")

    def read_bytes(self, key: str) -> bytes | None:
        """The object's bytes, or None when it does not exist."""
        if not self.is_s3:
            path = Path(self.uri(key))
            return path.read_bytes() if path.exists() else None
        return self._get_object(key)[0]

    def read_versioned(self, key: str) -> tuple[str | None, str | None]:
        """(text, version) of an object, (None, None) when it does not exist: what `swap_text`
        compares against. The version is S3's ETag; on a folder the sha256 of the file's bytes
        (like an ETag, it changes whenever the content does, and needs no extra file)."""
        if not self.is_s3:
            try:
                data = Path(self.uri(key)).read_bytes()
            except FileNotFoundError:
                return None, None
            return data.decode("utf-8"), _digest(data)
        data, version = self._get_object(key)
        return None if data is None else data.decode("utf-8"), version

    def _get_object(self, key: str) -> tuple[bytes | None, str | None]:
        """(bytes, ETag) of an S3 object, (None, None) when it does not exist."""
        bucket = self._bucket_and_prefix[0]
        try:
            answer = self._s3.get_object(Bucket=bucket, Key=self._object_key(key))
            return answer["Body"].read(), answer["ETag"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None, None
            raise _explain_s3(exc, self.uri(key), self.settings) from exc
        except BotoCoreError as exc:
            raise _explain_s3(exc, self.uri(key), self.settings) from exc

    def swap_text(self, key: str, text: str, expected_version: str | None) -> None:
        """Write `text` only if the object is still at `expected_version` (from read_versioned;
        None: only if it does not exist yet); else raise PublishConflict, having written nothing.

        S3: one conditional PUT (IfMatch=ETag, or IfNoneMatch="*"), decided by S3 itself.
        Folder: the lake may be a filesystem several machines share (NFS), where no lock of
        this process (flock) reaches the others. So the writer first claims the succession of
        the version it read, by creating `.<name>.<version>.claim` next to the key with O_EXCL
        (atomic on NFS too): of the writers that read the same version, exactly one gets it,
        the others conflict. The winner then checks the file still is at that version (a
        writer that read an older one fails here), renames the new text over it, and drops
        its claim. A claim left by a writer that died in between is taken over after
        STALE_CLAIM_SECONDS.
        """
        if self.is_s3:
            self._swap_object(key, text, expected_version)
            return
        path = Path(self.uri(key))
        path.parent.mkdir(parents=True, exist_ok=True)
        claim = path.with_name(f".{path.name}.{expected_version or 'absent'}.claim")
        if not _claim(claim) and not (_abandoned(claim) and _claim(claim)):
            raise self._conflict(key)
        try:
            if self.read_versioned(key)[1] != expected_version:
                raise self._conflict(key)
            self.write_text(key, text)
        finally:
            claim.unlink(missing_ok=True)

    def _swap_object(self, key: str, text: str, expected_version: str | None) -> None:
        condition = {"IfMatch": expected_version} if expected_version else {"IfNoneMatch": "*"}
        try:
            self._s3.put_object(
                Bucket=self._bucket_and_prefix[0],
                Key=self._object_key(key),
                Body=text.encode("utf-8"),
                **condition,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in LOST_SWAP:
                raise _explain_s3(exc, self.uri(key), self.settings) from exc
            # botocore retries a PUT whose answer was lost; if the first attempt landed, the
            # retry is refused (412) although the object holds this very text: that is a win
            if self.read_text(key) != text:
                raise self._conflict(key) from None
        except BotoCoreError as exc:
            raise _explain_s3(exc, self.uri(key), self.settings) from exc

    def _conflict(self, key: str) -> PublishConflict:
        return PublishConflict(
            f"{self.uri(key)} changed since it was read (another writer replaced it first); "
            "nothing was written"
        )

    def write_text(self, key: str, text: str) -> None:
        self.write_bytes(key, text.encode("utf-8"))

    def write_bytes(self, key: str, data: bytes) -> None:
        """Write the object whole: a folder lake renames a finished temp file over it."""
        if not self.is_s3:
            path = Path(self.uri(key))
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
            return
        try:
            self._s3.put_object(
                Bucket=self._bucket_and_prefix[0], Key=self._object_key(key), Body=data
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

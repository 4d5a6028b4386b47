"""dbt's partial-parse file (target/partial_parse.msgpack), kept in the lake under silver/dbt/.

A full parse of the project takes ~5 s. With the file, dbt checks the project's files against
it and re-parses only what changed (~1 s when nothing did). The work folder keeps it between
runs on one machine; a new work folder (every Kestra DbtCLI task, a new container or machine)
starts from the lake's copy. dbt checks that copy itself (its version, the profile's connection
info, every file's checksum) and parses afresh when it does not match, so a stale copy costs a
full parse, never a wrong build. It does not check where the project lies, and seeds are read
from there, so the key names the project folder: a copy from another checkout is never used.

$MAKERATES_SILVER_PARSE_CACHE, when set, is a file shared by every lake on the machine: a
work folder whose lake has no parse yet (a new deployment, every test's lake) starts from it,
and a parse that rewrote the file refreshes it. The parse holds no lake (the sources read it
through `getvariable('lake_url')`), so one lake's parse is good for another.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

from makerates_core.errors import UserError, os_error_line
from makerates_core.lake import Lake

log = logging.getLogger("makerates")

FILE = "partial_parse.msgpack"
SHARED_ENV = "MAKERATES_SILVER_PARSE_CACHE"
MAX_BYTES = 64 * 1024 * 1024  # ~1 MB today; a larger object is not a parse file of ours


def key(project: Path) -> str:
    folder = hashlib.sha256(str(project).encode()).hexdigest()[:12]
    return f"silver/dbt/{folder}/{FILE}"


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def restore(lake: Lake, project: Path, target: Path) -> str | None:
    """Copy the lake's file (else the machine's shared one) into `target` when the work folder
    has none. Returns the digest of the file now in `target` when the lake holds it too (None:
    `keep` copies it there after the parse)."""
    path = target / FILE
    if path.exists():
        return _digest(path)
    data = _from_lake(lake, project)
    in_lake = data is not None
    if data is None:
        data = _from_shared()
    if data is not None:
        target.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return _digest(path) if in_lake else None


def keep(lake: Lake, project: Path, target: Path, restored: str | None) -> None:
    """Copy the file to the lake (and the shared file) when the parse rewrote it (dbt writes
    it only after it parsed something) or the lake had none. A lake that refuses it is a
    WARNING: it is a cache."""
    path = target / FILE
    digest = _digest(path)
    if digest in (None, restored):
        return
    data = path.read_bytes()
    try:
        lake.write_bytes(key(project), data)
    except (OSError, UserError) as exc:
        _warn("keep dbt's parse cache in", exc)
    shared = os.environ.get(SHARED_ENV)
    if shared and _digest(Path(shared)) != digest:
        _write_shared(Path(shared), data)


def _from_lake(lake: Lake, project: Path) -> bytes | None:
    try:
        data = lake.read_bytes(key(project))
    except (OSError, UserError) as exc:
        _warn("read dbt's parse cache from", exc)
        return None
    return _bounded(data)


def _from_shared() -> bytes | None:
    shared = os.environ.get(SHARED_ENV)
    try:
        data = Path(shared).read_bytes() if shared else None
    except OSError:
        return None  # not made yet, or gone: a full parse, which makes it
    return _bounded(data)


def _bounded(data: bytes | None) -> bytes | None:
    """None for a file too large to be a parse file of ours."""
    return data if data is not None and len(data) <= MAX_BYTES else None


def _write_shared(shared: Path, data: bytes) -> None:
    """Atomically: runs on the machine read it while another replaces it."""
    part = None
    try:
        shared.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=shared.parent, delete=False) as part:
            part.write(data)
        os.replace(part.name, shared)
    except OSError as exc:
        if part is not None:
            Path(part.name).unlink(missing_ok=True)  # a full disk leaves no half-written part
        log.warning("silver could not keep dbt's parse cache in %s: %s", shared, os_error_line(exc))


def _warn(action: str, exc: OSError | UserError) -> None:
    why = os_error_line(exc) if isinstance(exc, OSError) else exc
    log.warning("silver could not %s the lake: %s", action, why)

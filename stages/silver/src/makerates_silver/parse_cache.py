"""dbt's partial-parse file (target/partial_parse.msgpack), kept in the lake under silver/dbt/.

A full parse of the project takes ~5 s. With the file, dbt checks the project's files against
it and re-parses only what changed (~1 s when nothing did). The work folder keeps it between
runs on one machine; a new work folder (every Kestra DbtCLI task, a new container or machine)
starts from the lake's copy. dbt checks that copy itself (its version, the profile's connection
info, every file's checksum) and parses afresh when it does not match, so a stale copy costs a
full parse, never a wrong build. It does not check where the project lies, and seeds are read
from there, so the key names the project folder: a copy from another checkout is never used.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from makerates_core.errors import UserError, os_error_line
from makerates_core.lake import Lake

log = logging.getLogger("makerates")

FILE = "partial_parse.msgpack"
MAX_BYTES = 64 * 1024 * 1024  # ~1 MB today; a larger object is not a parse file of ours


def key(project: Path) -> str:
    folder = hashlib.sha256(str(project).encode()).hexdigest()[:12]
    return f"silver/dbt/{folder}/{FILE}"


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def restore(lake: Lake, project: Path, target: Path) -> str | None:
    """Copy the lake's file into `target` when the work folder has none. Returns the digest
    of the file now in `target` (None: there is none), for `keep` to compare."""
    path = target / FILE
    if not path.exists():
        try:
            data = lake.read_bytes(key(project))
        except (OSError, UserError) as exc:
            _warn("read dbt's parse cache from", exc)
            data = None
        if data is not None and len(data) <= MAX_BYTES:
            target.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return _digest(path)


def keep(lake: Lake, project: Path, target: Path, restored: str | None) -> None:
    """Copy the file to the lake when the parse rewrote it (dbt writes it only after it
    parsed something). A lake that refuses it is a WARNING: it is a cache."""
    path = target / FILE
    if _digest(path) in (None, restored):
        return
    try:
        lake.write_bytes(key(project), path.read_bytes())
    except (OSError, UserError) as exc:
        _warn("keep dbt's parse cache in", exc)


def _warn(action: str, exc: OSError | UserError) -> None:
    why = os_error_line(exc) if isinstance(exc, OSError) else exc
    log.warning("silver could not %s the lake: %s", action, why)

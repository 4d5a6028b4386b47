"""Expected failures and the one-line way every makerates command reports them."""

from __future__ import annotations

import errno
import logging
import sys
from collections.abc import Callable
from functools import wraps

from makerates_core.logs import TRACEBACKS, debug_log, redact

log = logging.getLogger("makerates")
UNEXPECTED = 70  # EX_SOFTWARE: not an expected failure; the debug log has the traceback


class UserError(Exception):
    """A failure the user can act on: bad input, a missing rate, an unreachable service.

    The message is one line that says what was wrong and what to do; commands print it
    without a traceback and exit with `exit_code`.
    """

    exit_code = 2


class UpstreamError(UserError):
    """A source, the lake or the hot tier did not answer as it should."""

    exit_code = 3


class PublishConflict(UserError):
    """A compare-and-swap write lost: the object changed since it was read (another run
    published first). Nothing was written; re-running builds on the winner's publication."""

    exit_code = 4


OS_HINTS = {
    errno.ENOSPC: "the disk is full: free space there (or point LAKE_URL / HOT_STORE elsewhere)",
    errno.EDQUOT: "the disk quota is used up: free space there (or point LAKE_URL / HOT_STORE "
    "elsewhere)",
    errno.EACCES: "permission denied: check that path's owner and mode",
    errno.EPERM: "operation not permitted: check that path's owner and mode",
    errno.EROFS: "the filesystem is read-only: point LAKE_URL / HOT_STORE at a writable place",
}


def os_error_line(exc: OSError) -> str:
    """`<what failed>: <path>; <what to do>` for an OSError (a full disk, a denied path)."""
    what = exc.strerror or str(exc).splitlines()[0] or type(exc).__name__
    where = f": {exc.filename}" if exc.filename else ""
    hint = OS_HINTS.get(exc.errno, "check the path, the disk and the network")
    return f"{what}{where}; {hint}, then re-run"


def one_line_errors(main: Callable[..., int | None]) -> Callable[..., int]:
    """Wrap a CLI entry point: expected errors become one stderr line and a non-zero exit."""

    @wraps(main)
    def wrapper(*args, **kwargs) -> int:
        try:
            return main(*args, **kwargs) or 0
        except UserError as exc:
            print(f"error: {redact(str(exc))}", file=sys.stderr)
            return exc.exit_code
        except OSError as exc:  # the machine's disk or network: the operator's to fix
            print(f"error: {redact(os_error_line(exc))}", file=sys.stderr)
            return UpstreamError.exit_code
        except KeyboardInterrupt:
            print("error: interrupted; re-run the same command to resume", file=sys.stderr)
            return 130
        except Exception as exc:  # a bug or an unforeseen failure: still one line
            logging.getLogger(TRACEBACKS).error("unexpected failure", exc_info=True)
            first = (str(exc).strip().splitlines() or [""])[0]
            print(
                f"error: unexpected {type(exc).__name__}: {redact(first)}; the traceback is in "
                f"{debug_log()}; re-run, and report it if it persists",
                file=sys.stderr,
            )
            return UNEXPECTED

    return wrapper

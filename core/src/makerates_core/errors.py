"""Expected failures and the one-line way every makerates command reports them."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import wraps

from makerates_core.logs import redact

log = logging.getLogger("makerates")


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


def one_line_errors(main: Callable[..., int | None]) -> Callable[..., int]:
    """Wrap a CLI entry point: expected errors become one stderr line and a non-zero exit."""

    @wraps(main)
    def wrapper(*args, **kwargs) -> int:
        try:
            return main(*args, **kwargs) or 0
        except UserError as exc:
            print(f"error: {redact(str(exc))}", file=sys.stderr)
            return exc.exit_code
        except KeyboardInterrupt:
            print("error: interrupted; re-run the same command to resume", file=sys.stderr)
            return 130

    return wrapper

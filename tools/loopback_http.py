"""The HTTP server under the offline mirror and the fault proxy."""

from __future__ import annotations

import sys
from http.server import ThreadingHTTPServer


class LoopbackServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer whose clients may hang up mid-request (a deadline cut, a fault
    test's dropped connection): that is expected here and not worth a traceback in the log."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

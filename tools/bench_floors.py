"""Bare floors for `just bench` (issue 15): the pipeline's work done the plainest way, on the
same data in the same run, so that every figure is a ratio to what the work needs.

- backfill floor: one process fetches the ECB's full-history zip, keeps it raw, DuckDB turns
  it into a typed long Parquet (DECIMAL rates), and one JSON item per day goes into SQLite;
- daily floor: fetch the daily XML, keep it raw, one day's Parquet beside the history, one
  SQLite item;
  each floor runs as its own process (`run_floor`), timed from outside as the stages are: its
  interpreter start and imports count, as the stages' do;
- API floor: a raw ASGI app under the same uvicorn, reading the same hot-store items the API
  reads (the SQLite file gold synced) and answering the same requests, with floats: req/s at
  CONNECTIONS connections, one process each; and point reads at MANY_CLIENTS connections with
  WORKERS processes each (`makerates serve --workers`), p99 against P99_TARGET_MS, no error.

    python tools/bench_floors.py --api-only HOT_STORE   (the API part alone, on a synced store)
    python tools/bench_floors.py --floor backfill|daily ECB_BASE_URL WORK [FIRST]

API load comes from `wrk` (Debian: `apt-get install wrk`) when it is on PATH, else from a
threaded Python client (then the client, not the server, may be the limit: the JSON says so).
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
import xml.etree.ElementTree as ET
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

HTTP_TIMEOUT = 60
LOAD_SECONDS = 5
CONNECTIONS = 16
MANY_CLIENTS, WORKERS, P99_TARGET_MS = 200, 2, 100.0  # issue 15: 200 clients, p99 ≤ 100 ms
FULL_RANGE_TARGET_MS = 150.0  # issue 15: the full-history range of every currency
POINT_READS = ("v1_latest", "v2_rates_one_day")
_UNPIVOT = """
copy (
    select cast("Date" as date) as rate_date, currency, cast(rate as decimal(38, 18)) as rate
    from (unpivot (select * from read_csv($csv, all_varchar = true))
          on columns(* exclude ("Date")) into name currency value rate)
    where rate not in ('N/A', '') and currency <> '' and cast("Date" as date) >= $first
) to '{out}' (format parquet)
"""
_DAY_ITEMS = """
select strftime(rate_date, '%Y-%m-%d'),
       to_json(map_from_entries(list((currency, cast(rate as varchar)) order by currency)))
from read_parquet($parquet) group by rate_date order by rate_date
"""


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT) as response:
        return response.read()


def _put(db: Path, rows: list[tuple[str, str]]) -> None:
    con = sqlite3.connect(db)
    con.execute(
        "create table if not exists rates (pk text, sk text, item text, primary key (pk, sk))"
    )
    with con:
        con.executemany("insert or replace into rates values ('RATES', ?, ?)", rows)
    con.close()


def backfill_floor(ecb_base_url: str, work: Path, first: str) -> dict[str, Any]:
    """The ECB history from `first` on, from the mirror's zip to typed Parquet and one SQLite
    item per day."""
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    raw = _fetch(f"{ecb_base_url}/eurofxref-hist.zip")
    (work / "eurofxref-hist.zip").write_bytes(raw)
    archive = zipfile.ZipFile(io.BytesIO(raw))
    csv_path = work / "history.csv"
    csv_path.write_bytes(archive.read(archive.namelist()[0]))
    parquet = work / "history.parquet"
    con = duckdb.connect()
    con.execute(_UNPIVOT.format(out=parquet), {"csv": str(csv_path), "first": first})
    rows = con.execute(_DAY_ITEMS, {"parquet": str(parquet)}).fetchall()
    rates = con.execute("select count(*) from read_parquet($p)", {"p": str(parquet)}).fetchone()[0]
    con.close()
    _put(work / "hot.sqlite3", rows)
    return {"seconds": round(time.monotonic() - started, 3), "days": len(rows), "rates": rates}


def daily_floor(ecb_base_url: str, work: Path) -> dict[str, Any]:
    """The newest day beside a history already loaded (backfill_floor's `work`)."""
    started = time.monotonic()
    raw = _fetch(f"{ecb_base_url}/eurofxref-daily.xml")
    (work / "eurofxref-daily.xml").write_bytes(raw)
    elements = list(ET.fromstring(raw).iter())
    cubes = [e for e in elements if e.get("currency")]
    day = next(e.get("time") for e in elements if e.get("time"))
    con = duckdb.connect()
    con.execute("create table day (rate_date date, currency varchar, rate decimal(38, 18))")
    con.executemany(
        "insert into day values (?, ?, ?)", [(day, e.get("currency"), e.get("rate")) for e in cubes]
    )
    con.execute(f"copy day to '{work / f'day-{day}.parquet'}' (format parquet)")
    con.close()
    item = json.dumps({e.get("currency"): e.get("rate") for e in cubes}, sort_keys=True)
    _put(work / "hot.sqlite3", [(day, item)])
    return {"seconds": round(time.monotonic() - started, 3), "day": day, "rates": len(cubes)}


def run_floor(kind: str, ecb_base_url: str, work: Path, *args: str) -> dict[str, Any]:
    """One floor as its own process: `seconds` is its wall time from outside (interpreter start
    and imports included, as for each stage), `in_process_seconds` the work alone."""
    command = [sys.executable, __file__, "--floor", kind, ecb_base_url, str(work), *args]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True)
    result = json.loads(done.stdout)
    in_process = result.pop("seconds")
    seconds = round(time.monotonic() - started, 3)
    return {"seconds": seconds, "in_process_seconds": in_process, **result}


# ---------------------------------------------------------------- the API floor


def _wire_numbers(wire: dict) -> dict[str, float]:
    return {code: float(value["N"]) for code, value in wire["rates"]["M"].items()}


class FloorApp:
    """A raw ASGI app over the hot store's SQLite file: the v1 latest, a v1 range for one pair,
    and the v2 rates of one day, each one read and a json.dumps of floats."""

    def __init__(self, path: str, table: str):
        self.path, self.table = path, '"' + table + '"'
        self.local = threading.local()

    def _rows(self, sql: str, *params: str) -> list[dict]:
        con = getattr(self.local, "con", None) or sqlite3.connect(self.path)
        self.local.con = con
        return [json.loads(raw) for (raw,) in con.execute(sql, params).fetchall()]

    def answer(self, path: str, query: str) -> dict | list:
        t = self.table
        if path == "/v1/latest":
            wire = self._rows(f"select item from {t} where pk='RATES' order by sk desc limit 1")[0]
            return {
                "amount": 1.0,
                "base": "EUR",
                "date": wire["sk"]["S"],
                "rates": _wire_numbers(wire),
            }
        if path.startswith("/v1/") and ".." in path:
            start, end = path[4:].split("..")
            base, quote = re.findall(r"(?:from|to)=([A-Z]{3})", query)
            rates = {}
            for wire in self._rows(
                f"select item from {t} where pk='RATES' and sk between ? and ?", start, end
            ):
                numbers = _wire_numbers(wire)
                if base in numbers and quote in numbers:
                    rates[wire["sk"]["S"]] = {quote: round(numbers[quote] / numbers[base], 6)}
            return {
                "amount": 1.0,
                "base": base,
                "start_date": start,
                "end_date": end,
                "rates": rates,
            }
        day = re.search(r"date=(\d{4}-\d\d-\d\d)", query).group(1)
        wire = self._rows(f"select item from {t} where pk='DAY#blend' and sk=?", day[:7])[0]
        return [
            {"date": day, "base": "EUR", "quote": cur, "rate": float(rate)}
            for dd, cur, rate, _ in (line.split(" ") for line in wire["rows"]["S"].split("\n"))
            if dd == day[8:]
        ]

    async def __call__(self, scope, receive, send) -> None:
        body = json.dumps(self.answer(scope["path"], scope["query_string"].decode())).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def floor_app() -> FloorApp:
    """uvicorn factory: `uvicorn --factory bench_floors:floor_app` (HOT_STORE, TABLE)."""
    return FloorApp(os.environ["HOT_STORE"], os.environ.get("TABLE", "rates"))


def serve(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    """Start a server and wait (at most 30 s) until it answers on `port`."""
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/")
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{' '.join(command)} did not answer on port {port} within 30 s")


def load(url: str, seconds: int = LOAD_SECONDS, connections: int = CONNECTIONS) -> dict[str, Any]:
    """Requests per second, p99 latency and error answers at `connections` connections."""
    if shutil.which("wrk"):
        out = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
            capture_output=True, text=True, timeout=seconds + 30, check=True,
        ).stdout  # fmt: skip
        rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
        p99 = re.search(r"99%\s+([0-9.]+)(us|ms|s)", out)
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        sockets = re.search(
            r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
        )
        failed = (int(errors.group(1)) if errors else 0) + (
            sum(int(n) for n in sockets.groups()) if sockets else 0
        )
        return {"client": "wrk", "connections": connections, "req_per_s": rps,
                "p99_ms": round(float(p99.group(1)) * scale, 2), "errors": failed}  # fmt: skip
    return _python_load(url, seconds, connections)


def _python_load(url: str, seconds: int, connections: int) -> dict[str, Any]:
    host_port, _, path = url.removeprefix("http://").partition("/")
    host, port = host_port.split(":")
    took: list[float] = []
    errors, stop = [0], time.monotonic() + seconds

    def worker() -> None:
        con = http.client.HTTPConnection(host, int(port), timeout=HTTP_TIMEOUT)
        while time.monotonic() < stop:
            start = time.perf_counter()
            con.request("GET", "/" + path)
            response = con.getresponse()
            response.read()
            took.append(time.perf_counter() - start)
            errors[0] += response.status >= 400

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if not took:
        raise RuntimeError(f"API benchmark: no answer from {url} in {seconds} s")
    took.sort()
    return {
        "client": "python threads",
        "connections": connections,
        "req_per_s": round(len(took) / seconds, 1),
        "p99_ms": round(took[int(len(took) * 0.99)] * 1000, 2),
        "errors": errors[0],
    }


def _servers(port: int, workers: int) -> dict[str, list[str]]:
    """`makerates serve` and the floor app under the same uvicorn, `workers` processes each."""
    floor = [sys.executable, "-m", "uvicorn", "--factory", "bench_floors:floor_app",
             "--no-access-log", "--log-level", "warning"]  # fmt: skip
    common = ["--port", str(port), "--workers", str(workers)]
    return {
        "makerates": [str(Path(sys.executable).parent / "makerates"), "serve", *common],
        "floor": [*floor, *common],
    }


def _measure(
    env: dict[str, str], paths: dict[str, str], port: int, workers: int, connections: int
) -> dict[str, dict[str, Any]]:
    """server name → path name → load(), one server at a time on the same store."""
    from makerates_core.hotstore import table_name
    from makerates_core.settings import Settings

    table = table_name(Settings.from_env(env), "rates")
    child_env = {**env, "TABLE": table, "PYTHONPATH": _pythonpath(env)}
    results: dict[str, Any] = {}
    for name, command in _servers(port, workers).items():
        proc = serve(command, child_env, port)
        try:
            results[name] = {
                k: load(f"http://127.0.0.1:{port}{p}", connections=connections)
                for k, p in paths.items()
            }
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return results


def _pythonpath(env: dict[str, str]) -> str:
    """This folder (the floor app's module) ahead of any PYTHONPATH the caller set."""
    return os.pathsep.join(p for p in (str(Path(__file__).parent), env.get("PYTHONPATH")) if p)


def api_vs_floor(env: dict[str, str], paths: dict[str, str], port: int = 18081) -> dict[str, Any]:
    """req/s of `makerates serve` against the floor app (one process each, CONNECTIONS
    connections; an error answer stops the figure), then the point reads at MANY_CLIENTS
    connections on WORKERS processes each: p99 ≤ P99_TARGET_MS, no error (`many_clients`)."""
    results = _measure(env, paths, port, 1, CONNECTIONS)
    failed = [f"{n} {k}" for n, by_path in results.items() for k in paths if by_path[k]["errors"]]
    if failed:
        raise RuntimeError(f"API benchmark: error answers from {', '.join(failed)}")
    results["ratio"] = {
        k: round(results["makerates"][k]["req_per_s"] / results["floor"][k]["req_per_s"], 3)
        for k in paths
    }
    points = {k: paths[k] for k in POINT_READS if k in paths}
    many = _measure(env, points, port, WORKERS, MANY_CLIENTS)
    results["many_clients"] = {
        k: {
            "makerates": many["makerates"][k],
            "floor": many["floor"][k],
            "workers": WORKERS,
            "p99_target_ms": P99_TARGET_MS,
            "pass": many["makerates"][k]["p99_ms"] <= P99_TARGET_MS
            and not many["makerates"][k]["errors"],
        }
        for k in points
    }
    return results


def _asked_ms(port: int, path: str) -> tuple[float, int]:
    """One GET on a fresh connection: milliseconds to the last byte, and the body's size."""
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT)
    started = time.perf_counter()
    con.request("GET", path)
    response = con.getresponse()
    body = response.read()
    took = (time.perf_counter() - started) * 1000
    con.close()
    if response.status != 200:
        raise RuntimeError(f"API benchmark: {path} answered {response.status}")
    return round(took, 1), len(body)


def full_range(env: dict[str, str], start: str, last: str, port: int = 18082) -> dict[str, Any]:
    """The whole history of every currency from a just-started `makerates serve` (one
    process): each URL asked once, so each answer is rendered, not kept; the server's peak
    RSS after them. In EUR (the target) and from USD (the general path)."""
    command = [str(Path(sys.executable).parent / "makerates"), "serve", "--port", str(port)]
    proc = serve(command, {**env, "PYTHONPATH": _pythonpath(env)}, port)
    try:
        asked = {
            "eur": f"/v1/{start}..{last}",
            "eur_again_other_start": f"/v1/{date.fromisoformat(start) + timedelta(days=1)}..{last}",
            "usd": f"/v1/{start}..{last}?from=USD",
        }
        results: dict[str, Any] = {}
        for name, path in asked.items():
            ms, size = _asked_ms(port, path)
            results[name] = {"path": path, "ms": ms, "bytes": size}
        status = Path(f"/proc/{proc.pid}/status")
        if status.exists():
            peak = re.search(r"VmHWM:\s+(\d+) kB", status.read_text())
            results["server_peak_rss_mb"] = round(int(peak.group(1)) / 1024, 1) if peak else None
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    results["target_ms"] = FULL_RANGE_TARGET_MS
    results["pass"] = max(results["eur"]["ms"], results["eur_again_other_start"]["ms"]) <= (
        FULL_RANGE_TARGET_MS
    )
    return results


def report(results: dict[str, Any]) -> list[str]:
    """The API figures as lines: each ratio to its floor, each many-clients p99 to its target."""
    lines = []
    for k, ratio in results["ratio"].items():
        ours, floor = results["makerates"][k], results["floor"][k]
        lines.append(
            f"API {k}: {ours['req_per_s']:.0f} / {floor['req_per_s']:.0f} req/s = {ratio:.2f}x "
            f"floor (c{ours['connections']}, 1 process)"
        )
    for k, m in results["many_clients"].items():
        ours, floor = m["makerates"], m["floor"]
        lines.append(
            f"API {k} c{ours['connections']} x{m['workers']} workers: p99 {ours['p99_ms']} ms "
            f"(floor {floor['p99_ms']} ms), {ours['req_per_s']:.0f} req/s (floor "
            f"{floor['req_per_s']:.0f}), {ours['errors']} errors: "
            f"{'PASS' if m['pass'] else 'MISS'} (p99 ≤ {m['p99_target_ms']:.0f} ms, no error)"
        )
    if "full_range" in results:
        lines.append(full_range_line(results["full_range"]))
    return lines


def full_range_line(r: dict[str, Any]) -> str:
    return (
        f"API full history, every currency, first asking: EUR {r['eur']['ms']} / "
        f"{r['eur_again_other_start']['ms']} ms ({r['eur']['bytes'] / 1e6:.1f} MB), from USD "
        f"{r['usd']['ms']} ms; server peak RSS {r.get('server_peak_rss_mb')} MB: "
        f"{'PASS' if r['pass'] else 'MISS'} (EUR ≤ {r['target_ms']:.0f} ms)"
    )


def _newest_day(hot_store: str, table: str) -> str:
    con = sqlite3.connect(f"file:{hot_store}?mode=ro", uri=True)
    try:
        sql = f"select max(sk) from \"{table}\" where pk = 'RATES'"
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    """`--api-only HOT_STORE`: the API part alone on a store gold synced (full history or
    not), its requests dated by the store's newest day. `--floor KIND URL WORK [FIRST]`: one
    backfill or daily floor, its result as JSON on stdout (what `run_floor` runs)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--api-only", metavar="HOT_STORE")
    mode.add_argument("--floor", nargs="+", metavar="ARG", help="backfill|daily URL WORK [FIRST]")
    parser.add_argument("--out", help="write the JSON here too")
    args = parser.parse_args(argv)
    if args.floor:
        kind, url, work, *first = args.floor
        floors = {"backfill": backfill_floor, "daily": daily_floor}
        if kind not in floors:
            parser.error(f"--floor {kind}: the floors are {', '.join(floors)}")
        print(json.dumps(floors[kind](url, Path(work), *first)))
        return 0
    from bench import api_paths
    from makerates_core.hotstore import table_name
    from makerates_core.settings import Settings

    hot_store = str(Path(args.api_only).resolve())
    env = {**os.environ, "HOT_STORE": hot_store, "DO_NOT_TRACK": "1"}
    last = date.fromisoformat(_newest_day(hot_store, table_name(Settings.from_env(env), "rates")))
    results = api_vs_floor(env, api_paths(date(1999, 1, 4), last))
    results["full_range"] = full_range(env, "1999-01-04", last.isoformat())
    print("\n".join(report(results)))
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The audit benchmark (issue 18): a 100,000-row statement audited against a bare floor.

A SQLite hot tier is filled the way the gold tests fill it (a silver publication of the ECB's
real 2023-2024 rates with the v2 marts, then the real `sync`), a statement of ROWS random
conversions over those two years is written (timestamps in four zones, ten currencies,
markups around 0.35 %, 1.7 % and 3 %), and three things are measured:

- `makerates audit FILE --json` as its own process: wall seconds and peak RSS (through
  /usr/bin/time, as tools/bench.py measures the stages), against TARGET_SECONDS;
- `audit.audit` and its streamed JSON in this process, and the hot-tier requests it made;
- the floor: a process that preloads every DAY#blend rate into a dict and prices the same
  rows in a minimal loop (the same arithmetic: one 50-digit division for the cross rate, one
  for the markup; no column detection, provenance, summary or output).

    uv run python tools/bench_audit.py [--quick]      (prints the result as JSON)
"""

from __future__ import annotations

import argparse
import bisect
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Context, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
for folder in ("tools", "tests/integration", "stages/gold/tests"):
    sys.path.insert(0, str(REPO / folder))

ROWS, QUICK_ROWS = 100_000, 10_000
TARGET_SECONDS = 10.0
FIRST, LAST = "2023-01-01", "2024-12-31"
CODES = ("EUR", "USD", "JPY", "GBP", "CHF", "SEK", "PLN", "AUD", "CAD", "HUF")
ZONES = (
    timezone(timedelta(hours=1)),
    timezone(timedelta(hours=2)),
    UTC,
    timezone(timedelta(hours=-5)),
)
MARKUPS = ("0.0035", "0.017", "0.03")
DIVIDE = Context(prec=50)
EXACT = Context(prec=200)
BERLIN = ZoneInfo("Europe/Berlin")


def hot_tier(root: Path) -> dict[str, str]:
    """A SQLite hot tier synced from a silver publication of FIRST..LAST; its environment."""
    from makerates_gold.sync import sync

    from conftest import Deployment, _base_env, ecb_days

    env = {**_base_env(root), "HOT_STORE": str(root / "hot.sqlite3")}
    (root / "lake").mkdir(parents=True)
    deployment = Deployment(kind="sqlite", env=env, lake_dir=root / "lake")
    deployment.publish("bench-audit", ecb_days(FIRST, LAST))
    sync(deployment.settings, deployment.store())
    return env


def statement(path: Path, rows: int) -> None:
    """ROWS conversions: received = amount * that day's rate * (1 - markup), to the cent."""
    from conftest import ecb_days

    days = ecb_days(FIRST, LAST)
    ordered = sorted(days)
    pick = random.Random(18)
    start = datetime.fromisoformat("2023-01-03T00:00:00+00:00")  # after the first publication
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["date", "amount", "from", "to", "received"])
        for _ in range(rows):
            moment = start + timedelta(seconds=pick.randrange(725 * 86400))
            base, quote = pick.sample(CODES, 2)
            day = ordered[max(bisect.bisect_right(ordered, moment.date().isoformat()) - 1, 0)]
            rates = {**days[day], "EUR": "1"}
            rate = Decimal(rates[quote]) / Decimal(rates[base])
            amount = Decimal(pick.randrange(1000, 10_000_000)).scaleb(-2)
            keep = 1 - Decimal(pick.choice(MARKUPS)) - Decimal(pick.randrange(100)).scaleb(-6)
            received = (amount * rate * keep).quantize(Decimal("0.01"))
            out.writerow(
                [moment.astimezone(pick.choice(ZONES)).isoformat(), amount, base, quote, received]
            )


def measured(command: list[str], env: dict[str, str], workdir: Path) -> dict[str, Any]:
    """A process's wall seconds and peak RSS (its stdout to a file; read back when it is a
    small JSON object)."""
    rss, out = workdir / "rss.txt", workdir / "stdout.txt"
    timer = ["/usr/bin/time", "-f", "%M", "-o", str(rss)] if Path("/usr/bin/time").exists() else []
    started = time.monotonic()
    with out.open("w") as handle:
        done = subprocess.run(
            [*timer, *command],
            env=env,
            stdout=handle,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr[-2000:]}")
    result = {"seconds": round(seconds, 3), "stdout_mb": round(out.stat().st_size / 2**20, 1)}
    result["peak_rss_mb"] = round(int(rss.read_text().split()[-1]) / 1024, 1) if timer else None
    if out.stat().st_size < 4096:
        result.update(json.loads(out.read_text()))
    return result


def in_process(env: dict[str, str], path: Path) -> dict[str, Any]:
    from makerates_core.hotstore import open_store, table_name
    from makerates_core.settings import Settings
    from makerates_gold import audit

    settings = Settings.from_env(env)
    store, table = open_store(settings), table_name(settings, "rates")
    started = time.monotonic()
    audited = audit.audit(
        store, table, audit.read_csv(path.read_text()), audit.Options(cells=False)
    )
    read = time.monotonic()
    tally = audit.Tally(audited)
    size = sum(len(chunk) for chunk in audit.json_chunks(audited, tally))
    return {
        "parse_and_read_s": round(read - started, 3),
        "audit_s": round(time.monotonic() - started, 3),
        "json_mb": round(size / 2**20, 1),
        "requests": audited.requests,
        "priced": tally.priced,
        "unpriced": len(tally.rejected),
    }


# --- the floor ----------------------------------------------------------------------------


def preload(env: dict[str, str]) -> dict[tuple[int, str], Decimal]:
    """Every DAY#blend rate: (day ordinal, currency) → Decimal (one Query)."""
    from makerates_core.hotstore import open_store, table_name
    from makerates_core.settings import Settings

    settings = Settings.from_env(env)
    rates: dict[tuple[int, str], Decimal] = {}
    for item in open_store(settings).query(table_name(settings, "rates"), "DAY#blend"):
        first = date.fromisoformat(item["sk"] + "-01").toordinal() - 1
        for line in item["rows"].splitlines():
            dd, code, rate, _ = line.split(" ")
            rates[(first + int(dd), code)] = Decimal(rate)
    return rates


def floor_loop(rates: dict[tuple[int, str], Decimal], path: Path) -> int:
    """The same rows priced with nothing but the arithmetic; how many were priced."""
    one, priced = Decimal(1), []
    with path.open() as handle:
        next(handle)
        for line in handle:
            moment, amount, base, quote, received = line.rstrip("\n").split(",")
            local = datetime.fromisoformat(moment).astimezone(BERLIN)
            day = local.date().toordinal() - (local.hour < 16)
            b = one if base == "EUR" else rates[(day, base)]
            q = one if quote == "EUR" else rates[(day, quote)]
            reference = DIVIDE.divide(q, b)
            sent = Decimal(amount)
            ratio = DIVIDE.divide(Decimal(received), EXACT.multiply(sent, reference))
            priced.append(EXACT.multiply(sent, EXACT.subtract(one, ratio)))
    return len(priced)


def floor_main(path: Path) -> None:
    env = dict(os.environ)
    started = time.monotonic()
    rates = preload(env)
    loaded = time.monotonic()
    count = floor_loop(rates, path)
    done = time.monotonic()
    print(
        json.dumps(
            {
                "preload_s": round(loaded - started, 3),
                "loop_s": round(done - loaded, 3),
                "priced": count,
            }
        )
    )


def run(quick: bool) -> dict[str, Any]:
    """The measurements (module docstring); `quick`: QUICK_ROWS rows."""
    rows = QUICK_ROWS if quick else ROWS
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        root = Path(tmp)
        env = hot_tier(root / "hot")
        path = root / "statement.csv"
        statement(path, rows)
        statement_mb = round(path.stat().st_size / 2**20, 1)
        cli = measured([str(BIN / "makerates"), "audit", str(path), "--json"], env, root)
        inside = in_process(env, path)
        floor = measured([sys.executable, __file__, "--floor", str(path)], env, root)
    ratio = inside["audit_s"] / floor["loop_s"] if floor["loop_s"] else None
    return {
        "rows": rows,
        "span": [FIRST, LAST],
        "statement_mb": statement_mb,
        "audit_cli": cli,
        "audit_in_process": inside,
        "floor": floor,
        "audit_vs_floor_loop": round(ratio, 2) if ratio else None,
        "target_s": TARGET_SECONDS,
        "ok": cli["seconds"] <= TARGET_SECONDS,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ROWS:,} rows")
    parser.add_argument("--floor", metavar="CSV", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor:
        floor_main(Path(args.floor))
        return 0
    print(json.dumps(run(args.quick), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The makerates benchmark: the pipeline measured against its own limits (issue 7).

Runs the three stages as subprocesses on the real ECB history (served by tools/ecb_mirror.py on
loopback), on two setups:

- embedded: a temp lake folder + the SQLite hot store (the defaults),
- aws:      moto's server on loopback for S3 + DynamoDB (real APIs).

and measures: the full-history backfill (end to end and per stage: wall s, rows/s, peak RSS),
the daily incremental run with the full history loaded vs one month loaded, gold sync items/s
against a bare boto3 batch_write_item loop on the same server, an unchanged re-sync, `dbt build`
against its compiled SQL run directly in DuckDB, and each stage's installed dependency size.

    uv run python tools/bench.py [--quick] [--out bench-results/bench.json] [--setup embedded|aws]

Peak RSS per stage is that stage's own process's, through /usr/bin/time (os.wait4() when it
is missing).
Progress goes to stderr as plain lines; the table to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "tools"))
sys.path.insert(0, str(REPO / "tests" / "integration"))

import bench_audit  # noqa: E402
from bench_floors import api_vs_floor, full_range, run_floor  # noqa: E402
from ecb_mirror import EcbMirror, History  # noqa: E402
from makerates_core.events import read_outputs  # noqa: E402

STAGES = ("bronze", "silver", "gold")
TARGETS = {
    "backfill_s": 60.0,
    "daily_ratio": 1.1,  # issue 15 (issue 7 had 1.2)
    "gold_vs_baseline": 0.8,
    "resync_items": 0,
    "dbt_ratio": 2.0,
    "peak_rss_mb": 500.0,
    # ratios to the bare floors (tools/bench_floors.py), issue 15
    "backfill_floor_ratio": 6.0,
    "daily_floor_ratio": 20.0,
    "api_floor_ratio": 0.8,
}
STARTED = time.monotonic()


def progress(message: str) -> None:
    print(f"[bench {time.monotonic() - STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


def run_stage(
    env: dict[str, str], workdir: Path, *command: str, extra: dict[str, str] | None = None
) -> dict[str, Any]:
    """One stage as its own process: wall seconds, its own peak RSS (wait4), its outputs."""
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    tag = f"{command[0]}-{uuid.uuid4().hex[:6]}"
    out_path, err_path = logs / f"{tag}.out", logs / f"{tag}.err"
    rss_path = logs / f"{tag}.rss"
    # /usr/bin/time is a small process: ru_maxrss of a child forked from this (large) process
    # would start at this process's RSS, so the stage's own peak is measured through it.
    timer = (
        ["/usr/bin/time", "-f", "%M", "-o", str(rss_path)] if Path("/usr/bin/time").exists() else []
    )
    started = time.monotonic()
    with out_path.open("w") as out, err_path.open("w") as err:
        proc = subprocess.Popen(
            [*timer, str(BIN / command[0]), *command[1:]],
            cwd=workdir,
            env={**env, **(extra or {})},
            stdout=out,
            stderr=err,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    stdout = out_path.read_text()
    stderr = err_path.read_text()
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited {proc.returncode}\n{stdout[-3000:]}\n{stderr[-3000:]}"
        )
    maxrss_kb = usage.ru_maxrss
    if timer:
        maxrss_kb = int(rss_path.read_text().strip().splitlines()[-1])
    dbt = re.search(r"dbt build took ([0-9.]+)s", stderr + stdout)
    return {
        "command": " ".join(command),
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(maxrss_kb / 1024, 1),
        "outputs": read_outputs(stdout),
        **({"dbt_build_s": float(dbt.group(1))} if dbt else {}),
    }


def stage_rows(stage: str, result: dict[str, Any]) -> int:
    outputs = result["outputs"]
    counts = outputs.get("counts", outputs)
    key = {"bronze": "rows_loaded", "silver": "rows_published", "gold": "items_written"}[stage]
    value = counts.get(key, outputs.get(key))
    return int(value or 0)


def pipeline(
    env: dict[str, str], workdir: Path, bronze_args: tuple[str, ...], extra: dict | None = None
) -> dict[str, Any]:
    run_id = f"bench-{uuid.uuid4().hex[:10]}"
    extra = {"RUN_ID": run_id, **(extra or {})}
    stages = {}
    for stage, args in zip(STAGES, (bronze_args, ("run",), ("sync",)), strict=True):
        result = run_stage(env, workdir, f"makerates-{stage}", *args, extra=extra)
        result["rows"] = stage_rows(stage, result)
        result["rows_per_s"] = round(result["rows"] / result["seconds"], 1)
        stages[stage] = result
        progress(
            f"  {stage}: {result['seconds']:.1f}s, {result['rows']} rows, "
            f"{result['peak_rss_mb']:.0f} MB"
        )
    return {
        "run_id": run_id,
        "seconds": round(sum(s["seconds"] for s in stages.values()), 3),
        "stages": stages,
    }


# ---------------------------------------------------------------- deployments


def base_env(tmp: Path, source_urls: dict[str, str]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "LAKE_", "HOT_", "DYNAMODB_", "S3_", "MAKERATES_", "RUN_ID"))
    }
    env.update(
        {
            **source_urls,
            "DO_NOT_TRACK": "1",
            "RUNTIME__DLTHUB_TELEMETRY": "false",
            "HOME": str(tmp / "home"),
            "XDG_CACHE_HOME": str(tmp / "home" / ".cache"),
        }
    )
    return env


def deployment(setup: str, root: Path, name: str, mirror: EcbMirror, aws: dict | None):
    tmp = root / f"{setup}-{name}"
    work = tmp / "work"
    work.mkdir(parents=True)
    env = base_env(tmp, mirror.env)  # every provider of the registry, from the mirror
    # A first daily run starts INITIAL_LOOKBACK_DAYS before today: 30 days before the mirror's
    # last day, however old the shipped history is (else it finds nothing to load).
    env["INITIAL_LOOKBACK_DAYS"] = str((date.today() - mirror.history.last_day).days + 30)
    if setup == "embedded":
        env["LAKE_URL"] = str(tmp / "lake")
        env["HOT_STORE"] = str(tmp / "hot.sqlite3")
    else:
        from services import create_bucket

        bucket = f"bench-{uuid.uuid4().hex[:12]}"
        create_bucket(aws, bucket)
        env.update({k: v for k, v in aws.items() if k != "provider"})
        env["LAKE_URL"] = f"s3://{bucket}/lake"
        env["TABLE_PREFIX"] = f"b{uuid.uuid4().hex[:8]}_"
    return env, work


# ---------------------------------------------------------------- gold baseline


def similar_items(count: int, currencies: int = 32) -> list[dict[str, Any]]:
    """Items shaped like gold's day items: RATES/day, a map of Decimal rates, h, run_id."""
    codes = [f"C{i:02d}" for i in range(currencies)]
    start = date(1999, 1, 4)
    items = []
    for i in range(count):
        day = (start + timedelta(days=i)).isoformat()
        rates = {
            c: {"N": str(Decimal(1000 + i * 7 + j) / Decimal(997))[:10]}
            for j, c in enumerate(codes)
        }
        items.append(
            {
                "pk": {"S": "RATES"},
                "sk": {"S": day},
                "rates": {"M": rates},
                "h": {"S": uuid.uuid4().hex[:20]},
                "run_id": {"S": "bench-baseline"},
            }
        )
    return items


def boto3_baseline(aws: dict[str, str], count: int) -> dict[str, Any]:
    import boto3
    from makerates_core.hotstore import DynamoHotStore
    from makerates_core.settings import Settings

    client = boto3.client(
        "dynamodb",
        endpoint_url=aws["DYNAMODB_ENDPOINT_URL"],
        region_name=aws["AWS_REGION"],
        aws_access_key_id=aws["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=aws["AWS_SECRET_ACCESS_KEY"],
    )
    table = f"baseline_{uuid.uuid4().hex[:8]}"
    DynamoHotStore(Settings.from_env(aws)).ensure_table(table)  # the same table as gold's
    items = similar_items(count)
    started = time.monotonic()
    for i in range(0, len(items), 25):
        pending = [{"PutRequest": {"Item": it}} for it in items[i : i + 25]]
        while pending:
            answer = client.batch_write_item(RequestItems={table: pending})
            pending = answer.get("UnprocessedItems", {}).get(table, [])
    seconds = time.monotonic() - started
    return {"items": count, "seconds": round(seconds, 3), "items_per_s": round(count / seconds, 1)}


def baseline_process(aws: dict[str, str], count: int) -> dict[str, Any]:
    """The baseline in a process of its own, like the gold stage (moto's server runs in this
    process's threads: a client here would share the GIL with it and look slower). Timed the
    way the gold stage is, spawn to exit (`items_per_s`); the loop alone is `loop_items_per_s`."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, __file__, "--baseline-items", str(count)],
        env={**os.environ, **{k: v for k, v in aws.items() if k != "provider"}},
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.monotonic() - started
    loop = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "items": count,
        "seconds": round(seconds, 3),
        "items_per_s": round(count / seconds, 1),
        "loop_seconds": loop["seconds"],
        "loop_items_per_s": loop["items_per_s"],
    }


# ---------------------------------------------------------------- silver: dbt vs bare SQL


def bare_silver_sql(env: dict[str, str], target: Path, run_id: str) -> dict[str, Any]:
    """Run dbt's compiled SQL (seeds and models in dependency order as executed, then every
    test) directly in DuckDB."""
    from makerates_core.settings import Settings

    compiled_dir = target / "compiled" / "makerates_silver"
    manifest = json.loads((target / "manifest.json").read_text())
    nodes = manifest["nodes"]
    models = dependency_order(
        {k: n for k, n in nodes.items() if n["resource_type"] in ("model", "seed")}
    )
    tests = [n for n in nodes.values() if n["resource_type"] == "test"]

    scoped = {**env, "RUN_ID": run_id}
    settings = Settings.from_env(scoped)
    from makerates_core.duck import connect

    lake_url = settings.lake_url.rstrip("/")
    if not settings.lake_is_s3:
        Path(lake_url, "silver", "runs", run_id).mkdir(parents=True, exist_ok=True)
    statements: list[tuple[str, str]] = []
    for node in models:
        materialized = node["config"]["materialized"]
        if node["resource_type"] == "seed":
            csv_path = Path(node["root_path"], node["original_file_path"])
            types = node["config"].get("column_types")
            options = f", types = {types!r}" if types else ""
            statements.append(
                (
                    node["name"],
                    f'create or replace table "{node["name"]}" as select * from '
                    f"read_csv('{csv_path}', header = true{options})",
                )
            )
            continue
        compiled = (compiled_dir / node["original_file_path"]).read_text()
        compiled = compiled.replace(node["config"].get("location", "") or "\0", "")
        if materialized in ("view", "table"):
            statements.append(
                (
                    node["name"],
                    f'create or replace {materialized} "{node["name"]}" as {compiled}',
                )
            )
        else:
            location = f"{lake_url}/silver/runs/{run_id}/{node['name']}.parquet"
            statements.append(
                (
                    node["name"],
                    f"copy ({compiled}) to '{location}' (format parquet)",
                )
            )
            statements.append(
                (
                    node["name"] + "_view",
                    f"create or replace view \"{node['name']}\" as select * from read_parquet('{location}')",
                )
            )
    test_sql = []
    for node in tests:
        path = compiled_dir / node["original_file_path"].removeprefix("models/")
        candidates = list(compiled_dir.rglob(f"{node['name']}.sql"))
        if candidates:
            test_sql.append((node["name"], candidates[0].read_text()))
        elif path.is_file():
            test_sql.append((node["name"], path.read_text()))
    database = str(target.parent / "bare.duckdb")
    Path(database).unlink(missing_ok=True)
    started = time.monotonic()
    con = connect(settings, database)
    con.execute("set timezone = 'UTC'")
    con.execute("set variable lake_url = ?", [lake_url])  # what silver's lake_variable plugin sets
    schema_rx = re.compile(r'"silver"\."main"\."(\w+)"|"bare"\."main"\."(\w+)"')
    for _, sql in statements:
        con.execute(_rewrite(sql, schema_rx))
    failures = 0
    for _, sql in test_sql:
        (n,) = con.execute(f"select count(*) from ({_rewrite(sql, schema_rx)}) t").fetchone()
        failures += int(n > 0)
    seconds = time.monotonic() - started
    con.close()
    return {
        "seconds": round(seconds, 3),
        "models": len(models),
        "tests": len(test_sql),
        "test_failures": failures,
    }


def dependency_order(nodes: dict[str, dict]) -> list[dict]:
    """The nodes, each after the nodes among them it depends on (sources are not nodes)."""
    done: dict[str, dict] = {}

    def visit(key: str) -> None:
        if key in done:
            return
        for parent in nodes[key].get("depends_on", {}).get("nodes", []):
            if parent in nodes:
                visit(parent)
        done[key] = nodes[key]

    for key in sorted(nodes):
        visit(key)
    return list(done.values())


def _rewrite(sql: str, schema_rx: re.Pattern) -> str:
    """dbt names relations "<database>"."main"."x"; the bare run has them in its own main."""
    return schema_rx.sub(lambda m: f'"{m.group(1) or m.group(2)}"', sql)


# ---------------------------------------------------------------- installed sizes


def dependency_sizes() -> dict[str, Any]:
    import sysconfig

    site = Path(sysconfig.get_paths()["purelib"])
    dists = {}
    for info in site.glob("*.dist-info"):
        name = re.sub(
            r"[-_.]+", "-", info.name.removesuffix(".dist-info").rsplit("-", 1)[0]
        ).lower()
        total = 0
        record = info / "RECORD"
        if record.exists():
            for line in record.read_text(encoding="utf-8", errors="replace").splitlines():
                parts = line.rsplit(",", 2)
                if len(parts) == 3 and parts[2].isdigit():
                    total += int(parts[2])
                elif parts and parts[0]:
                    path = (site / parts[0]).resolve()
                    if path.is_file():
                        total += path.stat().st_size
        dists[name] = total
    sizes = {}
    for stage in STAGES:
        exported = subprocess.run(
            [
                "uv",
                "export",
                "--package",
                f"makerates-{stage}",
                "--no-dev",
                "--no-hashes",
                "--frozen",
                "--no-emit-workspace",
                "--no-header",
                "--no-annotate",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        names = []
        for line in exported.splitlines():
            line = line.strip()
            if not line or line.startswith(("#", "-")):
                continue
            names.append(
                re.sub(r"[-_.]+", "-", re.split(r"[=<>; \[]", line, maxsplit=1)[0]).lower()
            )
        missing = [n for n in names if n not in dists]
        total = sum(dists.get(n, 0) for n in names)
        top = sorted(((dists.get(n, 0), n) for n in names), reverse=True)[:5]
        sizes[stage] = {
            "packages": len(names),
            "installed_mb": round(total / 1e6, 1),
            "largest": {n: round(s / 1e6, 1) for s, n in top},
            "not_in_venv": missing,
        }
    return sizes


# ---------------------------------------------------------------- one setup


def bench_setup(setup: str, root: Path, history: History, quick: bool, aws: dict | None) -> dict:
    last = history.last_day
    prev = date.fromisoformat(history.days[1])  # the working day before the last
    start = (last - timedelta(days=60)) if quick else history.first_day
    out: dict[str, Any] = {"setup": setup}
    mirror = EcbMirror(as_of=last, history=history).start()
    try:
        # 1. backfill START..last, end to end and per stage; silver keeps its dbt target/
        env, work = deployment(setup, root, "full", mirror, aws)
        silver_work = work.parent / "silver-work"
        progress(f"{setup}: backfill {start}..{last}")
        backfill = pipeline(
            env,
            work,
            ("backfill", start.isoformat(), last.isoformat()),
            extra={"MAKERATES_SILVER_WORK_DIR": str(silver_work)},
        )
        backfill["range"] = [start.isoformat(), last.isoformat()]
        out["backfill"] = backfill
        if setup == "embedded":
            progress(f"{setup}: the API against its bare floor")
            out["api"] = api_vs_floor(env, api_paths(start, last))
            out["api"]["full_range"] = full_range(env, start.isoformat(), last.isoformat())

        # 4. re-sync with nothing changed
        progress(f"{setup}: re-sync, nothing changed")
        resync = run_stage(
            env, work, "makerates-gold", "sync", extra={"RUN_ID": backfill["run_id"]}
        )
        out["resync"] = {
            "seconds": resync["seconds"],
            "items_written": stage_rows("gold", resync),
            "peak_rss_mb": resync["peak_rss_mb"],
        }

        # 5. dbt build vs the same compiled SQL in DuckDB
        progress(f"{setup}: silver bare SQL")
        bare = bare_silver_sql(env, silver_work / "target", f"bare-{uuid.uuid4().hex[:8]}")
        dbt_exec = json.loads((silver_work / "target" / "run_results.json").read_text())[
            "elapsed_time"
        ]
        dbt_seconds = backfill["stages"]["silver"].get("dbt_build_s", dbt_exec)
        out["silver_dbt_vs_sql"] = {
            "dbt_build_s": round(dbt_seconds, 3),
            "silver_stage_s": backfill["stages"]["silver"]["seconds"],
            "dbt_execution_s": round(dbt_exec, 3),
            "bare_sql_s": bare["seconds"],
            "ratio": round(dbt_seconds / bare["seconds"], 2),
            "ratio_stage": round(backfill["stages"]["silver"]["seconds"] / bare["seconds"], 2),
            **{k: bare[k] for k in ("models", "tests", "test_failures")},
        }

        # 3. gold vs a bare boto3 loop on the same server
        if setup == "aws":
            items = backfill["stages"]["gold"]["rows"]
            progress(f"{setup}: boto3 baseline, {items} items")
            base = baseline_process(aws, items)
            gold = backfill["stages"]["gold"]
            out["gold_vs_baseline"] = {
                "gold_items": items,
                "gold_s": gold["seconds"],
                "gold_items_per_s": gold["rows_per_s"],
                "baseline": base,
                "ratio": round(gold["rows_per_s"] / base["items_per_s"], 3),
            }

        # 2. daily run: history up to `prev` loaded, then the mirror publishes `last`
        daily: dict[str, Any] = {"_setup_runs": []}
        for name, first in (("full", start), ("month", prev - timedelta(days=30))):
            env, work = deployment(setup, root, f"daily-{name}", mirror, aws)
            mirror.set_as_of(prev)
            progress(f"{setup}: daily/{name}: load {first}..{prev}")
            if name == "full":
                daily["_setup_runs"].append(
                    pipeline(env, work, ("backfill", first.isoformat(), prev.isoformat()))
                )
            # the incremental cursor (30-day lookback)
            daily["_setup_runs"].append(pipeline(env, work, ("run",)))
            mirror.set_as_of(last)
            progress(f"{setup}: daily/{name}: the run that picks up {last}")
            daily[name] = pipeline(env, work, ("run",))
        mirror.set_as_of(last)
        daily["ratio"] = round(daily["full"]["seconds"] / daily["month"]["seconds"], 3)
        out["daily"] = daily
        if setup == "embedded":
            out["floors"] = ecb_floors(root, mirror, start, prev, last)
            daily["_setup_runs"].append(out["floors"]["daily"]["pipeline"])
        runs = [backfill, daily["full"], daily["month"], *daily["_setup_runs"]]
        del daily["_setup_runs"]
        out["max_peak_rss_mb"] = {
            stage: max(r["stages"][stage]["peak_rss_mb"] for r in runs) for stage in STAGES
        }
    finally:
        mirror.stop()
    return out


def ecb_floors(root: Path, mirror: EcbMirror, start: date, prev: date, last: date) -> dict:
    """The pipeline on the ECB alone (SOURCES=ecb) beside the bare floors doing the same work:
    the backfill START..prev, then the daily run that picks up `last` (full history present)."""
    env, work = deployment("embedded", root, "ecb-only", mirror, None)
    env["SOURCES"] = "ecb"
    floors = root / "floors"
    mirror.set_as_of(prev)
    progress(f"ecb only: backfill {start}..{prev}, then its bare floor")
    backfill = pipeline(env, work, ("backfill", start.isoformat(), prev.isoformat()))
    floor = run_floor("backfill", mirror.base_url, floors, start.isoformat())
    pipeline(env, work, ("run",))  # the incremental cursor
    mirror.set_as_of(last)
    progress(f"ecb only: the daily run that picks up {last}, then its bare floor")
    daily = pipeline(env, work, ("run",))
    daily_bare = run_floor("daily", mirror.base_url, floors)
    return {
        name: {
            "pipeline": ours,
            "floor": bare,
            "ratio": round(ours["seconds"] / bare["seconds"], 2),
        }
        for name, ours, bare in (("backfill", backfill, floor), ("daily", daily, daily_bare))
    }


def api_paths(start: date, last: date) -> dict[str, str]:
    """The requests the API is measured on: latest, a year of one pair, v2's rates of a day."""
    year = max(start, last - timedelta(days=365))
    return {
        "v1_latest": "/v1/latest",
        "v1_year_one_pair": f"/v1/{year}..{last}?from=USD&to=JPY",
        "v2_rates_one_day": f"/v2/rates?date={last}",
    }


# ---------------------------------------------------------------- report


def floor_rows(setup: str, r: dict[str, Any]) -> list[tuple]:
    """The table's rows of the floors: each figure as a ratio to its floor and target."""
    rows = []
    for name, f in r.get("floors", {}).items():
        target = TARGETS[f"{name}_floor_ratio"]
        rows.append((setup, f"ECB only: {name} / its bare floor",
                     f"{f['pipeline']['seconds']:.1f} s / {f['floor']['seconds']:.2f} s = "
                     f"{f['ratio']:.1f}x (floor's work alone "
                     f"{f['floor'].get('in_process_seconds', f['floor']['seconds']):.2f} s)",
                     f"≤ {target:.0f}x", verdict(f["ratio"] <= target)))  # fmt: skip
        for stage, st in f["pipeline"]["stages"].items():
            rows.append((setup, f"  {stage}", f"{st['seconds']:.1f} s", "", ""))
    api = r.get("api")
    for name, ratio in (api or {}).get("ratio", {}).items():
        ours, floor = api["makerates"][name], api["floor"][name]
        rows.append((setup, f"API {name}: req/s / bare ASGI floor",
                     f"{ours['req_per_s']:.0f} / {floor['req_per_s']:.0f} = {ratio:.2f}x "
                     f"({ours['errors']} errors, {ours['client']})",
                     f"≥ {TARGETS['api_floor_ratio']}x",
                     verdict(ratio >= TARGETS["api_floor_ratio"] and not ours["errors"])))  # fmt: skip
    if api and "full_range" in api:
        f = api["full_range"]
        rows.append((setup, "API full history, every currency, first asking (EUR / from USD)",
                     f"{f['eur']['ms']:.0f} / {f['usd']['ms']:.0f} ms, server RSS "
                     f"{f.get('server_peak_rss_mb')} MB", f"EUR ≤ {f['target_ms']:.0f} ms",
                     verdict(f["pass"])))  # fmt: skip
    for name, m in (api or {}).get("many_clients", {}).items():
        ours, floor = m["makerates"], m["floor"]
        rows.append((setup, f"API {name}: {ours['connections']} clients, {m['workers']} workers",
                     f"p99 {ours['p99_ms']} ms (floor {floor['p99_ms']} ms), {ours['errors']} errors",
                     f"p99 ≤ {m['p99_target_ms']:.0f} ms, no error", verdict(m["pass"])))  # fmt: skip
    return rows


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def table(results: dict[str, Any]) -> str:
    rows = [("setup", "measure", "value", "target", "")]
    for setup, r in results["setups"].items():
        b = r["backfill"]
        rows.append(
            (
                setup,
                f"backfill {b['range'][0]}..{b['range'][1]}, end to end",
                f"{b['seconds']:.1f} s",
                f"≤ {TARGETS['backfill_s']:.0f} s",
                verdict(b["seconds"] <= TARGETS["backfill_s"]),
            )
        )
        for stage, s in b["stages"].items():
            rows.append(
                (
                    setup,
                    f"  {stage}",
                    f"{s['seconds']:.1f} s, {s['rows']} rows, {s['rows_per_s']:.0f}/s",
                    "",
                    "",
                )
            )
            rows.append(
                (
                    setup,
                    f"  {stage} peak RSS (backfill / max over all runs)",
                    f"{s['peak_rss_mb']:.0f} MB / {r['max_peak_rss_mb'][stage]:.0f} MB",
                    f"≤ {TARGETS['peak_rss_mb']:.0f} MB",
                    verdict(r["max_peak_rss_mb"][stage] <= TARGETS["peak_rss_mb"]),
                )
            )
        d = r["daily"]
        rows.append(
            (
                setup,
                "daily run, full history / one month",
                f"{d['full']['seconds']:.1f} s / {d['month']['seconds']:.1f} s = {d['ratio']:.2f}x",
                f"≤ {TARGETS['daily_ratio']}x",
                verdict(d["ratio"] <= TARGETS["daily_ratio"]),
            )
        )
        for stage in STAGES:
            rows.append(
                (
                    setup,
                    f"  daily {stage}, full / month",
                    f"{d['full']['stages'][stage]['seconds']:.1f} s / "
                    f"{d['month']['stages'][stage]['seconds']:.1f} s",
                    "",
                    "",
                )
            )
        if "gold_vs_baseline" in r:
            g = r["gold_vs_baseline"]
            rows.append(
                (
                    setup,
                    "gold sync vs bare boto3 batch_write_item",
                    f"{g['gold_items_per_s']:.0f} vs {g['baseline']['items_per_s']:.0f} items/s "
                    f"= {g['ratio']:.2f}x (loop alone {g['baseline']['loop_items_per_s']:.0f}/s)",
                    f"≥ {TARGETS['gold_vs_baseline']}x",
                    verdict(g["ratio"] >= TARGETS["gold_vs_baseline"]),
                )
            )
        rows.extend(floor_rows(setup, r))
        rs = r["resync"]
        rows.append(
            (
                setup,
                "re-sync, nothing changed",
                f"{rs['items_written']} items, {rs['seconds']:.1f} s",
                "0 items",
                verdict(rs["items_written"] == 0),
            )
        )
        sv = r["silver_dbt_vs_sql"]
        rows.append(
            (
                setup,
                "silver dbt build vs bare SQL",
                f"{sv['dbt_build_s']:.1f} s vs {sv['bare_sql_s']:.1f} s = {sv['ratio']:.2f}x "
                f"(stage {sv['ratio_stage']:.2f}x)",
                f"≤ {TARGETS['dbt_ratio']:.0f}x",
                verdict(sv["ratio"] <= TARGETS["dbt_ratio"]),
            )
        )
    if "audit" in results:
        a = results["audit"]
        rows.append(("-", f"audit {a['rows']:,} rows, whole process (floor loop)",
                     f"{a['audit_cli']['seconds']:.1f} s, {a['audit_cli']['peak_rss_mb'] or 0:.0f} MB "
                     f"({a['floor']['seconds']:.1f} s)", f"≤ {a['target_s']:.0f} s",
                     verdict(a["ok"])))  # fmt: skip
    for stage, s in results.get("dependency_sizes", {}).items():
        rows.append(
            (
                "-",
                f"{stage} installed dependencies",
                f"{s['installed_mb']:.0f} MB ({s['packages']} packages)",
                "",
                "",
            )
        )
    widths = [max(len(str(row[i])) for row in rows) for i in range(5)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def floors_only(out: Path) -> int:
    """`--ecb-floors`: the ECB-only figures alone, for measuring a silver change quickly."""
    history = History.shipped()
    last, prev = history.last_day, date.fromisoformat(history.days[1])
    mirror = EcbMirror(as_of=last, history=history).start()
    try:
        with tempfile.TemporaryDirectory(prefix="makerates-bench-") as tmp:
            floors = ecb_floors(Path(tmp), mirror, history.first_day, prev, last)
    finally:
        mirror.stop()
    results = {"setups": {"embedded": {"floors": floors}}}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    for row in floor_rows("embedded", results["setups"]["embedded"]):
        print("  ".join(str(cell) for cell in row))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke check: the last two months, embedded only, under a minute",
    )
    parser.add_argument("--out", default="bench-results/bench.json")
    parser.add_argument(
        "--setup", choices=("embedded", "aws", "both"), help="default: both (--quick: embedded)"
    )
    parser.add_argument(
        "--ecb-floors",
        action="store_true",
        help="only the ECB-only backfill and daily run beside their floors (embedded, full history)",
    )
    parser.add_argument("--baseline-items", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline_items:  # the child process of baseline_process()
        print(json.dumps(boto3_baseline(dict(os.environ), args.baseline_items)))
        return 0
    if args.ecb_floors:
        return floors_only(Path(args.out))

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server: no request lines
    history = History.shipped()
    setup = args.setup or ("embedded" if args.quick else "both")
    setups = ("embedded", "aws") if setup == "both" else (setup,)
    results: dict[str, Any] = {
        "quick": args.quick,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "mem_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        },
        "targets": TARGETS,
        "setups": {},
    }
    with tempfile.TemporaryDirectory(prefix="makerates-bench-") as tmp:
        root = Path(tmp)
        for setup in setups:
            if setup == "aws":
                from services import DUMMY_CREDENTIALS, _moto

                # moto prints "Starting a new Thread…" on stdout: keep stdout for the table
                with contextlib.redirect_stdout(sys.stderr), _moto() as endpoints:
                    aws = {**DUMMY_CREDENTIALS, **endpoints}
                    os.environ.update({k: v for k, v in aws.items() if k.startswith("AWS_")})
                    results["setups"][setup] = bench_setup(setup, root, history, args.quick, aws)
            else:
                results["setups"][setup] = bench_setup(setup, root, history, args.quick, None)
    progress("audit: a statement of conversions against its bare floor")
    results["audit"] = bench_audit.run(args.quick)
    progress("installed dependency sizes")
    results["dependency_sizes"] = dependency_sizes()
    results["total_s"] = round(time.monotonic() - STARTED, 1)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\nwritten {out}  ({results['total_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

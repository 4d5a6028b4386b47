"""`makerates-gold`: the gold stage's commands (run by Kestra and `just pipeline`)."""

from __future__ import annotations

import argparse
import dataclasses

from makerates_core.errors import one_line_errors
from makerates_core.events import StageRun, stage_run
from makerates_core.hotstore import open_store
from makerates_core.logs import setup_logging
from makerates_core.settings import Settings

from makerates_gold.run_events import COPY_DAYS, copy_or_warn, copy_run_events
from makerates_gold.sync import sync


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="makerates-gold",
        description="Gold stage: sync the published silver table into the hot tier "
        "(DynamoDB, or the local SQLite store). Configured by LAKE_URL, HOT_STORE, "
        "DYNAMODB_ENDPOINT_URL, TABLE_PREFIX, AWS_* and RUN_ID.",
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "sync",
        help="write the days whose rates changed since the last sync (idempotent)",
        description="Read silver/published.json and its Parquet table; write one item per "
        "changed day, the currencies item and the sync watermark. A second run over the "
        "same silver writes nothing.",
    )
    run.add_argument(
        "--full",
        action="store_true",
        help="ignore the watermark and compare every year with the hot tier (repair)",
    )
    commands.add_parser(
        "copy-events",
        help="copy bronze's and silver's run events from the lake into the runs table "
        "(every sync and record-failure does too)",
        description=f"Put the run events of the last {COPY_DAYS} days that bronze and silver "
        "wrote to the lake (runs/) and the runs table lacks. A second copy writes nothing.",
    )
    failure = commands.add_parser(
        "record-failure",
        help="copy the lake's run events, then record a failed pipeline run in the runs table "
        "unless the failed stage recorded its own failure among them (used by `just pipeline` "
        "and Kestra's errors branch)",
    )
    failure.add_argument("--run-id", required=True)
    failure.add_argument("--stage", required=True)
    why = failure.add_mutually_exclusive_group(required=True)
    why.add_argument("--error", help="why the run failed (Kestra's errors branch: its error log)")
    why.add_argument(
        "--status",
        type=int,
        help="the failed stage's exit status (the error says `makerates-STAGE exited with status N`)",
    )
    return top


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    setup_logging("gold")
    settings = Settings.from_env()
    store = open_store(settings)
    if args.command == "copy-events":
        copy_run_events(settings, store)
        return 0
    if args.command == "record-failure":
        if copy_or_warn(settings, store).failed(args.run_id, args.stage):
            return 0  # the stage's own event says why, in its own words
        settings = dataclasses.replace(settings, run_id=args.run_id)
        if args.error is None:
            error = f"makerates-{args.stage} exited with status {args.status}"
        else:
            error = " ".join(args.error.split()) or "the pipeline failed"
        StageRun(settings=settings, stage=args.stage, store=store).record("failed", error=error)
        return 0
    with stage_run(settings, "gold", store) as run:
        try:
            result = sync(settings, store, full=args.full)
        finally:  # a failed sync too: the run's bronze and silver events belong beside it
            copy_or_warn(settings, store)
        run.counts.update(result.counts)
        run.outputs["silver_run_id"] = result.run_id
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`makerates-bronze`: land the ECB euro reference rates in the lake's bronze layer."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from makerates_core.errors import one_line_errors
from makerates_core.events import stage_run
from makerates_core.lake import Lake
from makerates_core.logs import setup_logging
from makerates_core.settings import Settings

from makerates_bronze.dates import backfill_range
from makerates_bronze.pipeline import load


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="makerates-bronze",
        description="Extract the ECB euro reference rates into the lake (bronze/ecb_rates), "
        "raw and append-only, with dlt. Configured by LAKE_URL, S3_ENDPOINT_URL, "
        "ECB_BASE_URL, INITIAL_LOOKBACK_DAYS, HTTP_TIMEOUT_SECONDS, RUN_ID.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "run",
        help="load the days published since the last load (INITIAL_LOOKBACK_DAYS on an empty lake)",
    )
    backfill = commands.add_parser(
        "backfill",
        help="load the closed range START..END (1999-01-04 or later); the incremental cursor "
        "is not moved; rows already in bronze are loaded again (silver de-duplicates)",
    )
    backfill.add_argument("start", metavar="START", help="first day, YYYY-MM-DD")
    backfill.add_argument("end", metavar="END", help="last day, YYYY-MM-DD")
    return parser


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    log = setup_logging("bronze")
    settings = Settings.from_env()
    start = end = None
    if args.command == "backfill":
        start, end = backfill_range(args.start, args.end, datetime.now(UTC).date())
    Lake(settings).check()
    with stage_run(settings, "bronze") as run:
        result = load(settings, start=start, end=end)
        run.counts = {"rows_loaded": result.rows_loaded}
        run.outputs = {"document": result.document, "max_rate_date": result.max_rate_date}
        log.info(
            "loaded %d rows from %s into %s/bronze/ecb_rates (newest rate date %s, load %s)",
            result.rows_loaded,
            result.document,
            settings.lake_url,
            result.max_rate_date,
            result.load_id,
        )
    return 0

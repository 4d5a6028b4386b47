"""`makerates-silver run | docs`."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from makerates_core.errors import one_line_errors
from makerates_core.logs import setup_logging
from makerates_core.settings import Settings

EPILOG = """\
Exit status of `run`:
  0  published, or skipped (nothing new in bronze)
  1  a dbt test or model failed, or bronze is stale: one `error:` line names the test and its
     offending rows; published.json is untouched, so gold is too
  2  bad input or settings (empty bronze, a RUN_ID already published, another run holding
     this lake's work folder on this machine)
  3  the lake could not be reached, or failed under the build (worth a retry)
  4  another silver run on the same lake (another machine, or MAKERATES_SILVER_WORK_DIR)
     published while this one was building: nothing was published, this run's
     silver/runs/<run_id>/ is left unpublished; re-run silver, it builds on that publication
"""


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="makerates-silver",
        description=(
            "Silver stage: dbt on DuckDB turns bronze into typed, de-duplicated, tested\n"
            "Parquet and publishes it (silver/published.json) only when every test passed."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = root.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run",
        help="dbt build on the bronze loads new since the last publication; publish when it "
        "passed (skips when bronze has nothing new)",
    )
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild from every completed bronze load instead of the last publication",
    )
    docs = commands.add_parser(
        "docs",
        help="dbt docs generate to a local folder: lineage, tests, descriptions and the "
        "column types of the current publication's marts",
    )
    docs.add_argument(
        "--out",
        type=Path,
        default=Path("data/dbt-docs"),
        help="where the docs site goes (default: data/dbt-docs)",
    )
    return root


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    os.environ.setdefault("DO_NOT_TRACK", "1")
    setup_logging("silver", os.environ.get("LOG_LEVEL", "INFO"))
    settings = Settings.from_env()
    if args.command == "docs":
        from makerates_silver.docs import docs

        print(docs(settings, args.out))
        return 0
    from makerates_silver import runner

    return runner.run(settings, full_refresh=args.full_refresh)

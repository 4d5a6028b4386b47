"""`makerates-bronze`: land the published FX rates in the lake's bronze layer."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from makerates_core import providers
from makerates_core.errors import UpstreamError, UserError, one_line_errors
from makerates_core.events import stage_run
from makerates_core.lake import Lake
from makerates_core.logs import setup_logging
from makerates_core.settings import Settings

from makerates_bronze.dates import backfill_range
from makerates_bronze.pipeline import Outcome, load_all

EPILOG = """\
sources (SOURCES, a comma list; default all of them, from the registry
makerates_core/providers.csv; `makerates providers` shows their coverage):
{sources}

Each source is loaded on its own; one that fails does not stop the others, and what the
others loaded stays loaded. Exit status:
  0  every enabled source loaded; or some failed but the ECB or Frankfurter loaded (the
     pipeline can go on): a WARNING line names the missing sources, and so does the Kestra
     output `missing_sources`
  2  bad input or settings (e.g. an unknown name in SOURCES)
  3  every enabled source failed, or both the ECB and Frankfurter failed (when enabled): one
     `error:` line says which failed, why, and what did load; re-run when the source is back
"""


def _sources() -> str:
    return "\n".join(
        f"  {p.key:<17} {p.name} ({p.kind}, per {p.pivot_currency}; {p.base_url_setting})"
        + ("" if p.history else ", latest only: a backfill skips it")
        for p in providers.registry()
    )


def _offline(outcome: Outcome) -> str:
    """A pointer to the offline mirror when sources did not answer at all (no network)."""
    if not outcome.unreachable:
        return ""
    return (
        "; no network? `uv run just ecb-mirror` serves every source on this machine and prints "
        "the <KEY>_BASE_URL settings to export"
    )


def _failure(outcome: Outcome) -> str:
    """The run's error line. When no source answered at all, each one's ERROR line above
    already says why: this one names them and points at the mirror, short."""
    if (
        outcome.unreachable
        and not outcome.loaded
        and set(outcome.unreachable) == set(outcome.failed)
    ):
        names = ", ".join(outcome.unreachable)
        return f"no source answered ({names}); re-run when the network is back{_offline(outcome)}"
    return f"{outcome.summary()}; re-run when the sources are back{_offline(outcome)}"


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="makerates-bronze",
        description="Extract published FX rates into the lake (bronze/<source>_rates), "
        "raw and append-only, with dlt. Configured by LAKE_URL, S3_ENDPOINT_URL, SOURCES, "
        "each source's <KEY>_BASE_URL, INITIAL_LOOKBACK_DAYS, HTTP_TIMEOUT_SECONDS, "
        "HTTP_DEADLINE_SECONDS, HTTP_MAX_DOWNLOAD_BYTES, HTTP_MAX_DOCUMENT_BYTES, RUN_ID.",
        epilog=EPILOG.format(sources=_sources()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "run",
        help="load the days published since the newest day loaded, by a run or by a backfill "
        "that continued it (INITIAL_LOOKBACK_DAYS on an empty lake)",
    )
    backfill = commands.add_parser(
        "backfill",
        help="load the closed range START..END (1999-01-04 or later) from the sources with "
        "history (all but exchangerate_api); rows already in bronze are loaded again (silver "
        "de-duplicates). A source's cursor moves on to the backfill's newest day when the range "
        "goes past it and starts no later than the day after it (or the source has none yet), "
        "so the next run starts there; an older range, or one leaving a gap, leaves it alone",
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
        if settings.sources == ("exchangerate_api",):
            raise UserError(
                "SOURCES=exchangerate_api has no history to backfill; "
                "add ecb or frankfurter to SOURCES"
            )
    with stage_run(settings, "bronze") as run:  # opened first: a lake failure is a failed run
        Lake(settings).check()
        outcome = load_all(settings, start=start, end=end)
        run.counts = {"rows_loaded": outcome.rows_loaded}
        run.counts.update({f"rows_loaded_{n}": r.rows_loaded for n, r in outcome.loaded.items()})
        run.outputs = outcome.outputs()
        if not outcome.usable:
            raise UpstreamError(_failure(outcome))
        if outcome.failed:
            log.warning(
                "bronze: %s; re-run when the source is back (the ECB or its backup loaded, "
                "so the pipeline goes on)",
                outcome.summary(),
            )
    return 0

"""`makerates`: read rates from the hot tier. Subcommands: rate, currencies.

Every answer takes at most two requests to the hot tier. Errors are one line on stderr and a
non-zero exit (2 bad input or no rate, 3 the hot tier could not be reached).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date

from makerates_core.errors import one_line_errors
from makerates_core.hotstore import open_store, table_name
from makerates_core.settings import Settings

from makerates_gold import reads


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="makerates",
        description="Exact ECB reference rates and cross rates from the makerates hot tier.",
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    rate = commands.add_parser(
        "rate",
        help="the rate of BASE→QUOTE on a day (default: the latest publication)",
        description="How many QUOTE one BASE buys: quote_eur / base_eur from the latest ECB "
        f"publication on or before --date that has both (at most {reads.LOOKBACK_DAYS} days "
        "back). EUR is valid on either side.",
    )
    rate.add_argument("base", metavar="BASE", help="currency code, e.g. USD")
    rate.add_argument("quote", metavar="QUOTE", help="currency code, e.g. JPY")
    rate.add_argument("--date", dest="day", metavar="YYYY-MM-DD", help="calendar day asked for")
    rate.add_argument("--json", action="store_true", help="one JSON object, rate as a string")
    rate.set_defaults(handler=cmd_rate)

    listing = commands.add_parser(
        "currencies", help="every currency the ECB published, with its first and last day"
    )
    listing.add_argument("--json", action="store_true", help="one JSON object")
    listing.set_defaults(handler=cmd_currencies)
    return top


def cmd_rate(args: argparse.Namespace, settings: Settings) -> None:
    day: date | None = reads.parse_day(args.day) if args.day else None
    store = open_store(settings)
    answer = reads.rate(store, table_name(settings, "rates"), args.base, args.quote, day)
    if args.json:
        print(json.dumps(answer.as_json()))
        return
    note = (
        f"ECB rates of {answer.rate_date}"
        if answer.rate_date == answer.date
        else f"from the ECB rates of {answer.rate_date}, the latest published on or before it"
    )
    print(
        f"1 {answer.base} = {reads.decimal_text(answer.rate)} {answer.quote} "
        f"on {answer.date} ({note})"
    )


def cmd_currencies(args: argparse.Namespace, settings: Settings) -> None:
    known = reads.currencies(open_store(settings), table_name(settings, "rates"))
    if args.json:
        print(json.dumps(known, sort_keys=True))
        return
    print(f"{reads.PIVOT}  the pivot: every ECB rate is per 1 EUR")
    for code, span in sorted(known.items()):
        print(f"{code}  {span['first']} .. {span['last']}")


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")
    args.handler(args, Settings.from_env())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

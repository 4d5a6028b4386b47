"""`makerates`: read rates from the hot tier.

Subcommands: rate, convert, history, chart, currencies, providers, runs, serve. rate, convert,
history and chart read silver's series through `series.py` (the v2 items): by default `blend`,
our published rates; `--provider P` provider P's own series; `history --group week|month` the
weekly or monthly means. No rate is carried here: silver's calendar says what is in force.

A rate takes at most two requests to the hot tier. Errors are one line on stderr and a
non-zero exit (2 bad input or no rate, 3 the hot tier could not be reached); days of a range
with no rate in force are one `warning:` line each on stderr, with the command that loads them.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from datetime import date
from decimal import Decimal

from makerates_core.errors import UserError, one_line_errors
from makerates_core.events import recent_runs
from makerates_core.hotstore import HotStore, open_store, table_name
from makerates_core.settings import Settings

from makerates_gold import reads, series


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="makerates",
        description="Exact ECB reference rates and cross rates from the makerates hot tier.",
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    rate = commands.add_parser(
        "rate",
        help="the rate of BASE→QUOTE on a day (default: the latest publication)",
        description="How many QUOTE one BASE buys: quote_eur / base_eur, the rates in force on "
        "--date in silver's calendar (a publication is carried over weekends and holidays, at "
        f"most {reads.LOOKBACK_DAYS} days). EUR is valid on either side. The rate is shown to "
        f"{reads.RATE_DIGITS} significant digits, half-even; --json and --csv give every digit.",
    )
    rate.add_argument("base", metavar="BASE", help="currency code, e.g. USD")
    rate.add_argument("quote", metavar="QUOTE", help="currency code, e.g. JPY")
    rate.add_argument("--date", dest="day", metavar="YYYY-MM-DD", help="calendar day asked for")
    _provider(rate)
    _formats(rate, "one JSON object, rate as a string")
    rate.set_defaults(handler=cmd_rate)

    listing = commands.add_parser(
        "currencies",
        help="every currency served, with its first and last day (and its source when the "
        "ECB does not publish it)",
    )
    _formats(listing, "one JSON object")
    listing.set_defaults(handler=cmd_currencies)

    convert = commands.add_parser(
        "convert",
        help="how many QUOTE an AMOUNT of BASE buys on a day (default: the latest publication)",
        description="How many QUOTE an AMOUNT of BASE buys. Shown as money: rounded half-even "
        "to QUOTE's ISO 4217 minor unit (JPY 0 digits, USD 2, KWD 3) with thousands separators, "
        f"the rate to {reads.RATE_DIGITS} significant digits; --json gives every digit, exact.",
    )
    convert.add_argument("amount", metavar="AMOUNT", help="a positive decimal, e.g. 100 or 12.50")
    convert.add_argument("base", metavar="BASE")
    convert.add_argument("quote", metavar="QUOTE")
    convert.add_argument("--date", dest="day", metavar="YYYY-MM-DD")
    _provider(convert)
    _formats(convert, "one JSON object, numbers as strings")
    convert.set_defaults(handler=cmd_convert)

    for name, help_text in (
        (
            "history",
            "BASE→QUOTE from --from to --to: the rate in force on --from, then each "
            "day it changed; spans with no rate are named on stderr",
        ),
        (
            "chart",
            "draw BASE→QUOTE over calendar days (PNG, SVG or PDF): carried days shaded, "
            "days with no rate left as gaps",
        ),
    ):
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("base", metavar="BASE")
        sub.add_argument("quote", metavar="QUOTE")
        sub.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD")
        sub.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD")
        _provider(sub)
        if name == "history":
            sub.add_argument(
                "--group",
                choices=sorted(series.GROUPS),
                help="the mean of each week (from Monday) or month overlapping the range",
            )
            _formats(sub, "one JSON object")
            sub.set_defaults(handler=cmd_history)
        else:
            sub.add_argument(
                "-o",
                "--output",
                required=True,
                metavar="FILE",
                help="FILE.png, FILE.svg or FILE.pdf: the extension chooses the format",
            )
            sub.set_defaults(handler=cmd_chart)

    listed = commands.add_parser(
        "providers",
        help="every provider: kind, pivot, coverage (first/last day, currencies) and freshness",
    )
    _formats(listed, "one JSON array of objects")
    listed.set_defaults(handler=cmd_providers)

    runs = commands.add_parser("runs", help="recent pipeline runs and their stage events")
    _formats(runs, "one JSON array")
    runs.set_defaults(handler=cmd_runs)

    serve = commands.add_parser(
        "serve", help="the Frankfurter-compatible HTTP API (v1 and /v2) over the hot tier (uvicorn)"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument(
        "--workers", type=int, default=1, help="processes answering (default 1; one per core)"
    )
    serve.set_defaults(handler=cmd_serve)
    from makerates_gold.audit_cli import add_parser as add_audit  # `makerates audit`

    add_audit(commands)
    return top


def _provider(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--provider",
        metavar="KEY",
        help="read that provider's own rates (a registry key: `makerates providers`)",
    )


def _answer(args: argparse.Namespace, store: HotStore, table: str) -> reads.RateAnswer:
    """BASE→QUOTE on --date (or the latest): our published rates, or --provider's series."""
    day: date | None = reads.parse_day(args.day) if args.day is not None else None
    return series.point(store, table, args.base, args.quote, day, _series_key(args))


def _series_key(args: argparse.Namespace) -> str:
    return series.parse_series(args.provider) if args.provider else series.BLEND


def _structured(args: argparse.Namespace, body: dict[str, str], fields: list[str]) -> bool:
    """--csv (a header and one row of `fields`) or --json (`body`); False: neither asked."""
    if args.csv:
        _print_csv(fields, [[body.get(f) for f in fields]])
    elif args.json:
        print(json.dumps(body))
    return args.csv or args.json


ANSWER_FIELDS = ["base", "quote", "date", "rate_date", "days_carried", "rate", "source"]


def cmd_rate(args: argparse.Namespace, settings: Settings) -> None:
    store = open_store(settings)
    answer = _answer(args, store, table_name(settings, "rates"))
    if _structured(args, answer.as_json(), ANSWER_FIELDS):
        return
    note = _rates_of(answer, args.provider)
    if answer.days_carried:
        note = f"from the {note}, carried {_days(answer.days_carried)}"
    print(
        f"1 {answer.base} = {reads.rate_text(answer.rate)} {answer.quote} "
        f"on {answer.date} ({note}){_stale(answer) if args.day is None else ''}"
    )


def _days(count: int, noun: str = "day") -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _stale(answer: reads.RateAnswer) -> str:
    """A warning when "the latest" is older than a long weekend: the pipeline has not run."""
    age = (reads.today() - date.fromisoformat(answer.rate_date)).days
    if age <= reads.STALE_AFTER_DAYS:
        return ""
    return f"; stale: the newest rate is {age} days old, run `just pipeline` to load newer ones"


def _rates_of(answer: reads.RateAnswer, provider: str | None = None) -> str:
    """ "ECB rates of DAY", "rates of DAY, AED from exchangerate_api", or "nbp rates of DAY"
    (--provider)."""
    if provider is not None:
        return f"{provider.lower()} rates of {answer.rate_date}"
    if not answer.sources:
        return f"ECB rates of {answer.rate_date}"
    others = ", ".join(f"{code} from {source}" for code, source in answer.sources.items())
    return f"rates of {answer.rate_date}, {others}"


def _formats(command: argparse.ArgumentParser, json_help: str) -> None:
    """--json or --csv instead of the table (each a whole document on stdout)."""
    chosen = command.add_mutually_exclusive_group()
    chosen.add_argument("--json", action="store_true", help=json_help)
    chosen.add_argument("--csv", action="store_true", help="CSV with a header row, exact values")


def _print_csv(header: list[str], rows: list[list[object]]) -> None:
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(header)
    out.writerows(["" if value is None else value for value in row] for row in rows)


def cmd_currencies(args: argparse.Namespace, settings: Settings) -> None:
    store, table = open_store(settings), table_name(settings, "rates")
    known = reads.currencies(store, table)
    names = reads.currency_names(store, table)
    if args.csv:
        fields = ["first", "last", "minor_units", "source"]
        rows = [[c, names[c], *(span.get(f) for f in fields)] for c, span in sorted(known.items())]
        _print_csv(["code", "name", *fields], rows)
        return
    if args.json:
        named = {c: {**span, "name": names[c]} for c, span in known.items()}
        print(json.dumps(named, sort_keys=True, default=_json_number))
        return
    width = max(len(name) for name in names.values())
    print(f"{reads.PIVOT}  {names[reads.PIVOT]:<{width}}  the pivot: every rate is per 1 EUR")
    for code, span in sorted(known.items()):
        source = f"  ({span['source']})" if "source" in span else ""
        print(f"{code}  {names[code]:<{width}}  {span['first']} .. {span['last']}{source}")


def cmd_providers(args: argparse.Namespace, settings: Settings) -> None:
    listed = reads.providers(open_store(settings), table_name(settings, "rates"))
    if args.csv:
        fields = ["key", "name", "kind", "pivot", "first", "last", "currencies", "rows_quarantined"]
        _print_csv(fields, [[p.get(f) for f in fields] for p in listed])
        return
    if args.json:
        print(json.dumps(listed))
        return
    today = reads.today()
    for p in listed:
        age = f", {(today - date.fromisoformat(p['last'])).days} days old" if "last" in p else ""
        coverage = f"{p['first']} .. {p['last']}" if "first" in p else "nothing loaded yet"
        print(
            f"{p['key']:<17} {p['kind']:<10} {p['pivot']}  {p['name']}: {coverage}, "
            f"{p['currencies']} currencies{age}"
            + (f", {p['rows_quarantined']} rows quarantined" if p["rows_quarantined"] else "")
        )


def cmd_convert(args: argparse.Namespace, settings: Settings) -> None:
    amount = reads.parse_amount(args.amount)
    store = open_store(settings)
    answer = _answer(args, store, table_name(settings, "rates"))
    result = reads.convert(amount, answer)
    body = {"amount": reads.decimal_text(amount), **answer.as_json()}
    body.update(result=reads.decimal_text(result), rounding="none: exact decimals")
    if _structured(args, body, ["amount", *ANSWER_FIELDS, "result"]):
        return
    minor = reads.minor_units(store, table_name(settings, "rates")).get(answer.quote)
    print(
        f"{format(amount, ',f')} {answer.base} = {reads.money(result, minor)} {answer.quote} "
        f"on {answer.date} (rate {reads.rate_text(answer.rate)}, "
        f"{_rates_of(answer, args.provider)})"
    )


def _range(args: argparse.Namespace, settings: Settings):
    """The store, its table, what to read and the span of history/chart; unknown currencies
    are errors (1 GetItem of META/CURRENCIES)."""
    start, end = reads.parse_day(args.start), reads.parse_day(args.end)
    if start > end:
        raise UserError(f"--from {start} is after --to {end}")
    base, quote = reads.parse_code(args.base), reads.parse_code(args.quote)
    ask = series.Ask(base=base, quotes=(quote,), series=(_series_key(args),))
    store, table = open_store(settings), table_name(settings, "rates")
    reads.require_known(reads.currencies(store, table), (base, quote))
    return store, table, ask, (start, end)


def _no_rates(ask: series.Ask, span: tuple[date, date]) -> UserError:
    start, end = span
    return UserError(
        f"the hot tier has no {ask.base}/{ask.quotes[0]} rate between {start} and {end} in "
        f"series {ask.series[0]}; if the sources published some, load them with "
        f"`{reads.backfill_command(start, end)}`"
    )


def _warn_missing(ask: series.Ask, missing: list[tuple[date, date]]) -> list[dict]:
    """One `warning:` line on stderr per span with no rate in force; the spans as JSON."""
    spans = []
    for first, last in missing:
        load, count = reads.backfill_command(first, last), (last - first).days + 1
        print(
            f"warning: no {ask.base}/{ask.quotes[0]} rate in force from {first} to {last} "
            f"({_days(count)}): not loaded, or not published; `{load}` loads what the sources "
            "published",
            file=sys.stderr,
        )
        spans.append(
            {"from": first.isoformat(), "to": last.isoformat(), "days": count, "load": load}
        )
    return spans


def _history(args: argparse.Namespace, settings: Settings) -> dict:
    """The rows of `series.daily` or of `series.grouped`, exact, as the JSON's object, with
    the spans that had no rate in force (grouped: no period's mean); an empty answer is an
    error."""
    store, table, ask, span = _range(args, settings)
    coverage = series.Coverage(*span)
    if args.group:
        rows = list(series.grouped(store, table, ask, span, args.group))
        for row in rows:
            for day in series.period_days(date.fromisoformat(row.date), args.group):
                coverage.add(day)
    else:
        rows = series.daily(store, table, ask, span, seen=coverage.add)
    column = "period_start" if args.group else "rate_date"
    points = [{column: row.date, "rate": reads.decimal_text(row.rate)} for row in rows]
    if not points:
        raise _no_rates(ask, span)
    return {
        "base": ask.base,
        "quote": ask.quotes[0],
        "from": span[0].isoformat(),
        "to": span[1].isoformat(),
        "series": ask.series[0],
        "group": args.group or "day",
        "missing": _warn_missing(ask, coverage.missing()),
        "rates": points,
    }


def cmd_history(args: argparse.Namespace, settings: Settings) -> None:
    body = _history(args, settings)
    column = next(iter(body["rates"][0]))
    pair = (body["base"], body["quote"])
    if args.csv:
        rows = [[p[column], *pair, p["rate"]] for p in body["rates"]]
        _print_csv([column, "base", "quote", "rate"], rows)
        return
    if args.json:
        print(json.dumps(body))
        return
    print(f"{column:<12}  {'/'.join(pair)}")
    for point in body["rates"]:
        print(f"{point[column]:<12}  {reads.rate_text(Decimal(point['rate']))}")
    what = {"day": "rates", "week": "weeks", "month": "months"}[body["group"]]
    missing = body.get("missing")
    gaps = f"; {_days(len(missing), 'span')} with no rate (above)" if missing else ""
    print(
        f"{len(body['rates'])} {what} of series {body['series']} from {body['from']} to "
        f"{body['to']}{gaps}"
    )


def cmd_chart(args: argparse.Namespace, settings: Settings) -> None:
    from makerates_gold.chart import Chart, draw  # matplotlib is optional: imported only here

    store, table, ask, span = _range(args, settings)
    coverage = series.Coverage(*span)
    days = []
    for day, rows in series.calendar_rows(store, table, ask, span):
        for row in rows:
            if row.quote == ask.quotes[0]:
                coverage.add(day.toordinal())
                days.append((day, date.fromisoformat(row.date), row.rate))
    if not days:
        raise _no_rates(ask, span)
    missing = coverage.missing()
    _warn_missing(ask, missing)
    chart = Chart(ask.base, ask.quotes[0], ask.series[0], span, days, missing)
    path = draw(chart, args.output)
    published = sum(1 for day, seen, _ in days if day == seen)
    print(f"wrote {path} ({published} publication days, {span[0]}..{span[1]})")


def _json_number(value: object) -> object:
    """Numbers read back from the hot tier are Decimals: integers stay integers."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)


RUN_COLUMNS = ["run_id", "at", "stage", "event", "duration_s", "counts", "error"]


def _run_row(run_id: str, event: dict) -> list[object]:
    """One stage event as a CSV row; its counts as `name=value` pairs joined by spaces."""
    counts = " ".join(f"{k}={v}" for k, v in sorted(event.get("counts", {}).items()))
    return [run_id, *(event.get(k) for k in RUN_COLUMNS[1:5]), counts, event.get("error")]


def cmd_runs(args: argparse.Namespace, settings: Settings) -> None:
    runs = recent_runs(settings, open_store(settings))
    if args.json:
        print(json.dumps(runs, default=_json_number))
        return
    if args.csv:
        _print_csv(RUN_COLUMNS, [_run_row(run["run_id"], e) for run in runs for e in run["events"]])
        return
    if not runs:
        print("no runs recorded yet")
        return
    for run in runs:
        events = run["events"]
        final = {e["stage"]: e["event"] for e in events}
        summary = ", ".join(f"{stage} {event}" for stage, event in final.items())
        print(f"{run['run_id']}  {summary}")
        for event in events:
            counts = _run_row(run["run_id"], event)[5]
            error = f"  error: {event['error']}" if event.get("error") else ""
            print(
                f"  {event['at']}  {event['stage']:<7} {event['event']:<9} "
                f"{event.get('duration_s', '')}s  {counts}{error}".rstrip()
            )


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    """uvicorn over `create_app`, called by each worker process (which reads the same
    environment as `settings` was read from)."""
    import uvicorn

    if args.workers < 1:
        raise UserError(f"--workers {args.workers}: give 1 or more processes")
    uvicorn.run(
        "makerates_gold.api:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
    )


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")
    args.handler(args, Settings.from_env())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

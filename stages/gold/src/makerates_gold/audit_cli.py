"""`makerates audit FILE`: what each conversion of a statement cost against the reference
rates (the logic is `audit.py`; DESIGN.md, "Audit").

Shown on the terminal: money rounded half-even to its currency's ISO 4217 minor unit
(`reads.money`), rates to reads.RATE_DIGITS significant digits, markups to 4 places in
percent and 2 in basis points; --json and --csv keep every digit.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, Decimal

from makerates_core.hotstore import open_store, table_name
from makerates_core.settings import Settings

from makerates_gold import audit
from makerates_gold.audit import Audit, Priced, Rejected
from makerates_gold.reads import RATE_DIGITS, money, rate_text

ADDED = (
    "reference_day", "reference_rate", "reference_provider", "rate_date", "effective_rate",
    "markup", "markup_percent", "markup_bps", "cost", "cost_currency", "cost_report",
    "report_currency", "unpriced_reason",
)  # fmt: skip
TABLE_ROWS = 50  # rows the terminal table shows by default


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `audit` on the `makerates` subcommands."""
    command = subparsers.add_parser(
        "audit",
        help="what each conversion of a CSV statement really cost against the reference rates",
        description="Price every conversion of FILE (a CSV with a header row; FILE.json holds "
        '{"rows": [...]}, - reads stdin) against the reference rate in force at its moment: '
        "from the reference's publication time (the ECB's 16:00 Europe/Berlin) a day's rates "
        "apply, before it the day before's; a date without a time takes that day's rates. "
        "markup = 1 - effective rate / reference rate; cost = amount sent * markup. Headers "
        "date,amount,from,to,received (or rate) need no flags; common names are detected. "
        f"At most {audit.MAX_ROWS:,} rows and {audit.MAX_BYTES // 2**20} MiB. Money is shown "
        "rounded half-even to its currency's minor unit, basis points to 2 places; --json "
        "and --csv are exact. Unpriced rows are listed with their reason; the rest are audited.",
    )
    command.add_argument("file", metavar="FILE", help="the statement (CSV, or .json)")
    chosen = command.add_mutually_exclusive_group()
    chosen.add_argument("--json", action="store_true", help='{"rows": [...], "summary": {...}}')
    chosen.add_argument("--csv", action="store_true", help="the input rows with the added columns")
    command.add_argument("--report", metavar="FILE.html", help="also write a self-contained page")
    command.add_argument(
        "--reference",
        default=audit.BLEND,
        metavar="KEY",
        help="blend (default; alias consensus): our published rates, the ECB's where it "
        "publishes the pair, else the official providers' consensus; ecb; or a provider key",
    )
    command.add_argument(
        "--report-currency",
        default=audit.PIVOT,
        metavar="CODE",
        help="the currency totals are in (default EUR)",
    )
    command.add_argument(
        "--timezone",
        default="UTC",
        metavar="ZONE",
        help="zone of timestamps written without an offset (UTC)",
    )
    for role in audit.ROLES:
        command.add_argument(f"--{role}-column", metavar="NAME", help=f"the {role} column's header")
    command.add_argument(
        "--limit",
        type=int,
        default=TABLE_ROWS,
        metavar="N",
        help=f"rows in the table (default {TABLE_ROWS})",
    )
    command.set_defaults(handler=cmd_audit)
    return command


def read_statement(path: str) -> audit.Table:
    """The file (or stdin) as a Table; one AuditError line for what cannot be read."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read(audit.MAX_BYTES + 1)
        else:
            with open(path, "rb") as handle:
                data = handle.read(audit.MAX_BYTES + 1)
    except OSError as exc:
        raise audit.AuditError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > audit.MAX_BYTES:
        raise audit.TooLarge(f"{path} is over {audit.MAX_BYTES // 2**20} MiB; split it into parts")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise audit.AuditError(
            f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    return audit.read_json(text) if path.lower().endswith(".json") else audit.read_csv(text)


def options(args: argparse.Namespace) -> audit.Options:
    columns = {role: getattr(args, f"{role}_column") for role in audit.ROLES}
    if args.limit < 0:
        raise audit.AuditError(f"--limit {args.limit}: give 0 or more rows")
    return audit.Options(
        reference=audit.parse_reference(args.reference),
        report_currency=audit.parse_report_currency(args.report_currency),
        zone=audit.parse_zone(args.timezone),
        columns={k: v for k, v in columns.items() if v},
        cells=args.csv,
    )


def cmd_audit(args: argparse.Namespace, settings: Settings) -> None:
    chosen = options(args)
    if args.report:
        from makerates_gold import audit_report  # before any output: a bad path is one line

        audit_report.check_target(args.report)
    statement = read_statement(args.file)
    audited = audit.audit(open_store(settings), table_name(settings, "rates"), statement, chosen)
    tally = audit.Tally(audited)
    if args.json:
        sys.stdout.writelines(audit.json_chunks(audited, tally))
        sys.stdout.write("\n")
    elif args.csv:
        print_csv(audited, tally)
    else:
        print_table(audited, tally, args.limit)
    if args.report:
        audit_report.write(audited, tally, args.report)
        print(f"wrote {args.report}", file=sys.stderr)


# --- --csv --------------------------------------------------------------------------------


def _added(result: Priced | Rejected, report: str) -> list[str]:
    if isinstance(result, Rejected):
        return [""] * (len(ADDED) - 1) + [result.reason]
    row = audit.row_json(result, report)
    return [str(row[name]) for name in ADDED[:-1]] + [""]


def print_csv(audited: Audit, tally: audit.Tally) -> None:
    """The statement's own cells (as many as its header), then ADDED, row by row."""
    out = csv.writer(sys.stdout, lineterminator="\n")
    width, report = len(audited.header), audited.options.report_currency
    out.writerow([*audited.header, *ADDED])
    for row in tally.feed(audited.results()):
        cells = (row.conversion.cells if isinstance(row, Priced) else row.cells)[:width]
        out.writerow([*cells, *[""] * (width - len(cells)), *_added(row, report)])


# --- the terminal table -------------------------------------------------------------------


def places(value: Decimal, digits: int) -> str:
    return format(value.quantize(Decimal(1).scaleb(-digits), ROUND_HALF_EVEN), "f")


def percent(markup: Decimal) -> str:
    return places(markup.scaleb(2, audit.EXACT), 4) + "%"


def basis_points(value: Decimal) -> str:
    return places(value, 2)


class Shown:
    """Amounts as money in their currency, with the statement's minor units."""

    def __init__(self, audited: Audit):
        self.minor = audited.minor_units
        self.report = audited.options.report_currency

    def money(self, value: Decimal, code: str) -> str:
        return f"{money(value, self.minor.get(code))} {code}"

    def row(self, p: Priced) -> list[str]:
        c = p.conversion
        paid = (
            self.money(c.received, c.quote)
            if c.received is not None
            else f"at {rate_text(p.effective)}"
        )
        return [
            str(c.line), p.day.isoformat(), p.pair, self.money(c.amount, c.base), paid,
            rate_text(p.reference), f"{p.rate_date} {p.provider}", rate_text(p.effective),
            percent(p.markup), basis_points(audit.bps(p.markup)), self.money(p.cost, c.base),
            self.money(p.cost_report, self.report),
        ]  # fmt: skip


HEAD = [
    "line", "ref. day", "pair", "sent", "received", "reference", "rate of", "effective",
    "markup", "bps", "cost", "cost",
]  # fmt: skip
LEFT = {1, 2, 6}  # columns aligned left


def _aligned(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(_cells(row, widths)).rstrip() for row in rows]


def _cells(row: list[str], widths: list[int]) -> Iterator[str]:
    for i, (cell, width) in enumerate(zip(row, widths, strict=True)):
        yield cell.ljust(width) if i in LEFT else cell.rjust(width)


def print_table(audited: Audit, tally: audit.Tally, limit: int) -> None:
    """The first `limit` priced rows, then the summary."""
    shown, first = Shown(audited), []
    for row in tally.feed(audited.results()):
        if isinstance(row, Priced) and len(first) < limit:
            first.append(shown.row(row))
    if first:
        for line in _aligned([[*HEAD[:-1], f"cost {shown.report}"], *first]):
            print(line)
    more = tally.priced - len(first)
    if more > 0:
        print(f"… {more:,} more priced rows (--limit, or --csv / --json for all)")
    for line in summary_lines(tally.summary(), shown):
        print(line)


def summary_lines(body: dict, shown: Shown) -> list[str]:
    """The summary for people: totals, markups, per pair and month, each unpriced row, and
    the rounding rule last."""
    total = shown.money(Decimal(body["total_cost"]), shown.report)
    lines = [
        f"{_count(body['rows'], 'conversion')}, {body['priced']:,} priced against {body['reference']} "
        f"(publication {body['publication_time']}): total cost {total}"
    ]
    if "markup_bps" in body:
        m = {k: basis_points(Decimal(v)) for k, v in body["markup_bps"].items()}
        lines.append(
            f"markup in bps: mean {m['mean']}, median {m['median']}, worst {m['worst']}, "
            f"best {m['best']}, cost-weighted {m['weighted']}"
        )
    lines += _groups(body, shown)
    if body["unpriced_rows"]:
        lines.append(f"unpriced ({body['unpriced']}):")
        lines += [f"  line {r['line']}: {r['reason']}" for r in body["unpriced_rows"]]
    lines.append(
        "money rounded half-even to each currency's minor unit, "
        f"rates to {RATE_DIGITS} significant digits, "
        "bps to 2 places; --json and --csv are exact"
    )
    return lines


def _count(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _rows(count: int) -> str:
    return _count(count, "row")


def _groups(body: dict, shown: Shown) -> list[str]:
    lines = ["per pair:"] if body["per_pair"] else []
    for entry in body["per_pair"]:
        base, mean = entry["pair"][:3], basis_points(Decimal(entry["markup_bps"]["mean"]))
        lines.append(
            f"  {entry['pair']}: {_rows(entry['rows'])}, "
            f"{shown.money(Decimal(entry['amount']), base)} sent, cost "
            f"{shown.money(Decimal(entry['cost']), base)} = "
            f"{shown.money(Decimal(entry['cost_report']), shown.report)}, mean {mean} bps"
        )
    lines += ["per month:"] if body["per_month"] else []
    for entry in body["per_month"]:
        mean = basis_points(Decimal(entry["markup_bps"]["mean"]))
        lines.append(
            f"  {entry['month']}: {_rows(entry['rows'])}, cost "
            f"{shown.money(Decimal(entry['cost_report']), shown.report)}, mean {mean} bps"
        )
    return lines

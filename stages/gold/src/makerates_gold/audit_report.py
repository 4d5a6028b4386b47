"""`makerates audit --report FILE.html`: one self-contained page (no script, no request: its
Content-Security-Policy allows only inline styles) with the summary, an inline SVG chart of
the markup over time per pair, the worst rows and the unpriced ones.

The chart plots, per pair, the mean markup in basis points of each day's conversions (the
day as the statement wrote it), at most CHART_PAIRS pairs (those with the most rows). Every
value on the page is rounded as on the terminal (`audit_cli`); the JSON keeps every digit.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from html import escape
from pathlib import Path

from makerates_core.errors import UserError

from makerates_gold.audit import Audit, Rejected, Tally
from makerates_gold.audit_cli import Shown, basis_points, percent, summary_lines
from makerates_gold.reads import rate_text

CHART_PAIRS = 12
MARKERS = 400  # points per pair drawn as markers (each with a tooltip); beyond, a line only
UNPRICED_LISTED = 200
WIDTH, HEIGHT = 960, 360
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 40
COLOURS = (
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
    "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939",
)  # fmt: skip
STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1000px;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.2rem .6rem;border-bottom:1px solid #ddd}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{text-align:left;background:#f4f4f4}
.legend span{display:inline-block;margin-right:1rem}.legend i{display:inline-block;width:12px;
height:12px;margin-right:4px;vertical-align:middle}.note{color:#666;font-size:.9em}
svg text{font:11px system-ui,sans-serif;fill:#444}
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'"


def check_target(path: str) -> Path:
    """The page's path, refused in one line before any work: not .html, or no such folder."""
    target = Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        raise UserError(f"--report {path}: give a file ending in .html")
    if not target.parent.is_dir():
        raise UserError(f"cannot write {path}: directory {target.parent} does not exist")
    return target


def write(audited: Audit, tally: Tally, path: str) -> Path:
    """Write the page of an audit whose results `tally` was fed; one UserError line when it
    cannot be written."""
    target = check_target(path)
    try:
        target.write_text(page(audited, tally), encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    return target


def page(audited: Audit, tally: Tally) -> str:
    shown, summary = Shown(audited), tally.summary()
    lines = summary_lines(summary, shown)
    body = "\n".join(
        [
            "<h1>Conversion audit</h1>",
            f'<p id="summary">{escape(lines[0])}</p>',
            f"<p>{escape(lines[1])}</p>" if tally.priced else "",
            "<h2>Markup over time</h2>",
            chart(tally),
            "<h2>Per pair</h2>",
            _pairs(summary, shown),
            "<h2>Worst rows</h2>",
            _worst(tally, shown),
            _unpriced(tally.rejected),
            f'<p class="note">{escape(lines[-1])}.</p>',
        ]
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>makerates audit against {escape(audited.options.reference)}</title>"
        f"<style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def _table(head: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    out = [f"<table><tr>{cells}</tr>"]
    for row in rows:
        tds = "".join(
            f'<td class="n">{escape(c)}</td>' if i in numeric else f"<td>{escape(c)}</td>"
            for i, c in enumerate(row)
        )
        out.append(f"<tr>{tds}</tr>")
    return "".join(out) + "</table>"


def _pairs(summary: dict, shown: Shown) -> str:
    rows = []
    for entry in summary["per_pair"]:
        base, mean = entry["pair"][:3], Decimal(entry["markup_bps"]["mean"])
        rows.append(
            [
                entry["pair"],
                f"{entry['rows']:,}",
                shown.money(Decimal(entry["amount"]), base),
                shown.money(Decimal(entry["cost"]), base),
                shown.money(Decimal(entry["cost_report"]), shown.report),
                basis_points(mean),
                basis_points(Decimal(entry["markup_bps"]["worst"])),
            ]
        )
    head = ["pair", "rows", "sent", "cost", f"cost {shown.report}", "mean bps", "worst bps"]
    return _table(head, rows, {1, 2, 3, 4, 5, 6})


def _worst(tally: Tally, shown: Shown) -> str:
    rows = [
        [
            str(p.conversion.line),
            p.conversion.moment.isoformat(),
            p.pair,
            shown.money(p.conversion.amount, p.conversion.base),
            rate_text(p.reference),
            f"{p.rate_date} {p.provider}",
            rate_text(p.effective),
            percent(p.markup),
            shown.money(p.cost, p.conversion.base),
        ]
        for p in tally.worst()
    ]
    head = ["line", "date", "pair", "sent", "reference", "rate of", "effective", "markup", "cost"]
    return _table(head, rows, {0, 3, 4, 6, 7, 8})


def _unpriced(rejected: list[Rejected]) -> str:
    if not rejected:
        return ""
    items = "".join(
        f"<li>line {r.line}: {escape(r.reason)}</li>" for r in rejected[:UNPRICED_LISTED]
    )
    more = len(rejected) - UNPRICED_LISTED
    tail = f'<p class="note">… {more:,} more (--json lists them all)</p>' if more > 0 else ""
    return f'<h2>Unpriced rows ({len(rejected):,})</h2><ul id="unpriced">{items}</ul>{tail}'


# --- the chart ----------------------------------------------------------------------------


def daily_means(tally: Tally) -> dict[str, list[tuple[date, float]]]:
    """pair → (day, mean markup in bps) for the CHART_PAIRS pairs with the most rows."""
    busiest = sorted(tally.pairs, key=lambda pair: (-tally.pairs[pair].rows, pair))
    return {
        pair: [(d, total / count) for d, (total, count) in sorted(tally.daily[pair].items())]
        for pair in sorted(busiest[:CHART_PAIRS])
    }


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) covering [low, high]."""
    span = high - low
    raw = span / count
    magnitude = 10 ** int(f"{raw:e}".split("e")[1])
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = int(low // step) * step
    return [
        first + i * step for i in range(int(span // step) + 2) if first + i * step <= high + 1e-9
    ]


class Scale:
    """Days and basis points → SVG coordinates of the plot area."""

    def __init__(self, series: dict[str, list[tuple[date, float]]]):
        days = [d.toordinal() for points in series.values() for d, _ in points]
        values = [v for points in series.values() for _, v in points]
        self.x0, self.x1 = min(days), max(days)
        if self.x0 == self.x1:
            self.x0, self.x1 = self.x0 - 1, self.x1 + 1
        self.y0, self.y1 = min(0.0, *values), max(0.0, *values)
        if self.y0 == self.y1:
            self.y1 = self.y0 + 1
        self.y0, self.y1 = (
            self.y0 - (self.y1 - self.y0) * 0.05,
            self.y1 + (self.y1 - self.y0) * 0.05,
        )

    def x(self, day: date) -> float:
        share = (day.toordinal() - self.x0) / (self.x1 - self.x0)
        return round(LEFT + share * (WIDTH - LEFT - RIGHT), 1)

    def y(self, value: float) -> float:
        share = (value - self.y0) / (self.y1 - self.y0)
        return round(HEIGHT - BOTTOM - share * (HEIGHT - TOP - BOTTOM), 1)


def _line(x1: float, y1: float, x2: float, y2: float, extra: str = 'stroke="#999"') -> str:
    return f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" {extra}/>'


def _axes(scale: Scale) -> list[str]:
    bottom, zero = HEIGHT - BOTTOM, scale.y(0)
    out = [
        _line(LEFT, bottom, WIDTH - RIGHT, bottom),
        _line(LEFT, TOP, LEFT, bottom),
        _line(LEFT, zero, WIDTH - RIGHT, zero, 'stroke="#bbb" stroke-dasharray="4 3"'),
        f'<text x="14" y="{TOP + 8}" transform="rotate(-90 14 {TOP + 8})" '
        'text-anchor="end">markup, basis points</text>',
    ]
    for value in _ticks(scale.y0, scale.y1):
        y = scale.y(value)
        out.append(_line(LEFT - 4, y, LEFT, y))
        out.append(f'<text x="{LEFT - 6}" y="{y + 4}" text-anchor="end">{value:g}</text>')
    for ordinal in sorted({int(t) for t in _ticks(scale.x0, scale.x1, 6) if t >= scale.x0}):
        day = date.fromordinal(ordinal)
        x = scale.x(day)
        out.append(_line(x, bottom, x, bottom + 4))
        out.append(f'<text x="{x}" y="{bottom + 18}" text-anchor="middle">{day}</text>')
    return out


def _series(pair: str, points: list[tuple[date, float]], scale: Scale, colour: str) -> str:
    coords = " ".join(f"{scale.x(d)},{scale.y(v)}" for d, v in points)
    marks = "".join(
        f'<circle cx="{scale.x(d)}" cy="{scale.y(v)}" r="3"><title>{d} {escape(pair)}: '
        f"{v:.2f} bps</title></circle>"
        for d, v in points[:MARKERS]
    )
    return (
        f'<g class="series" data-pair="{escape(pair)}" stroke="{colour}" fill="{colour}">'
        f'<polyline points="{coords}" fill="none" stroke-width="1.5"/>{marks}</g>'
    )


def chart(tally: Tally) -> str:
    """The inline SVG (and its legend); a sentence when nothing was priced."""
    series = daily_means(tally)
    if not series:
        return '<p class="note">No priced conversion: nothing to draw.</p>'
    scale = Scale(series)
    colours = dict(zip(series, COLOURS, strict=False))
    parts = [
        f'<svg id="markup-chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        'aria-label="markup over time per pair">',
        *_axes(scale),
        *(_series(pair, points, scale, colours[pair]) for pair, points in series.items()),
        "</svg>",
    ]
    legend = "".join(
        f'<span><i style="background:{colours[pair]}"></i>{escape(pair)}</span>' for pair in series
    )
    drawn = len(tally.pairs)
    more = f" ({drawn - len(series)} more pairs not drawn)" if drawn > len(series) else ""
    note = f'<p class="note">Mean markup of each day\'s conversions per pair{more}.</p>'
    return "".join(parts) + f'<p class="legend">{legend}</p>{note}'

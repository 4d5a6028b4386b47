"""`makerates chart`: BASE→QUOTE over calendar days as a PNG, SVG or PDF, chosen by the
output's extension (matplotlib, Agg backend).

What is drawn is silver's calendar as the series hold it, nothing computed here: a step line
over every calendar day with a rate in force, broken (NaN) on the days without one — a span
never loaded or never published, longer than silver's carry window — which are also shaded
and hatched. Up to DETAIL_DAYS days, publication days are filled markers and the days that
carry an earlier publication (weekends, holidays) hollow markers on a shaded band; a longer
range (full history is ~10,000 days) is the line alone, so it stays readable and fast. The
legend names every mark drawn. matplotlib is the optional `chart` extra, imported only here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from makerates_core.errors import UserError

DETAIL_DAYS = 400  # longer ranges get no markers and no per-day shading
LINE_ID = "rate-in-force"  # the step line's gid (in an SVG: the <g id> around its path)
GAP_ID, CARRIED_ID = "no-rate", "carried"  # the bands'
PUBLISHED_ID, CARRIED_MARKS_ID = "publication-days", "carried-days"  # the markers'
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Chart:
    """What to draw: each calendar day with a rate in force, (day, day it was published,
    rate), in order, and the spans of days without one."""

    base: str
    quote: str
    series: str
    span: tuple[date, date]
    days: list[tuple[date, date, Decimal]]
    missing: list[tuple[date, date]]


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise UserError(
            "charts need matplotlib; install it with `pip install 'makerates-gold[chart]'`"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


FORMATS = ("png", "svg", "pdf")


def chart_format(output: str) -> str:
    """The file format of `output`, from its extension; a UserError for any other."""
    suffix = Path(output).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise UserError(
            f"cannot draw {output}: give a file ending in {', '.join('.' + f for f in FORMATS)}"
        )
    return suffix


def draw(chart: Chart, output: str) -> Path:
    fmt = chart_format(output)
    plt = _pyplot()
    path = Path(output)
    if path.parent and not path.parent.exists():
        raise UserError(f"cannot write {output}: directory {path.parent} does not exist")
    fig = figure(chart, plt)
    try:
        with plt.rc_context({"svg.fonttype": "none"}):  # an SVG's text stays text
            fig.savefig(path, format=fmt)
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)
    return path


def figure(chart: Chart, plt):
    """The figure: the step line (NaN on days without a rate), the bands, the markers."""
    first, last = chart.span
    detailed = (last - first).days < DETAIL_DAYS
    fig, ax = plt.subplots(figsize=(10, 4.5), dpi=100)
    x, y = _steps(chart)
    (line,) = ax.step(x, y, where="post", color="tab:blue", linewidth=1.2 if detailed else 0.8)
    line.set_gid(LINE_ID)
    line.set_label("rate in force on each calendar day")
    if chart.missing:
        _bands(ax, chart.missing, GAP_ID, "no rate in force: not loaded, or not published",
               facecolor="0.85", hatch="//", edgecolor="0.6")  # fmt: skip
    if detailed:
        _marks(ax, chart)
    ax.set_xlim(first, last + ONE_DAY)
    ax.set_title(f"{chart.base}/{chart.quote}  {first} .. {last}  (series {chart.series})")
    ax.set_ylabel(f"{chart.quote} per 1 {chart.base}")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def _steps(chart: Chart) -> tuple[list[date], list[float]]:
    """Every calendar day of the span and the day after it, with the rate in force or NaN
    (a float only to be drawn: every number shown in text is the Decimal's)."""
    first, last = chart.span
    held = {day: float(rate) for day, _, rate in chart.days}
    x = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    y = [held.get(day, float("nan")) for day in x]
    return [*x, last + ONE_DAY], [*y, y[-1]]


def _marks(ax, chart: Chart) -> None:
    published = [(day, float(rate)) for day, seen, rate in chart.days if day == seen]
    carried = [(day, float(rate)) for day, seen, rate in chart.days if day != seen]
    if published:
        ax.plot(*zip(*published, strict=True), "o", color="tab:blue", markersize=3,
                label=f"publication day ({chart.series})", gid=PUBLISHED_ID)  # fmt: skip
    if carried:
        ax.plot(*zip(*carried, strict=True), "o", markerfacecolor="white",
                markeredgecolor="tab:orange", markersize=4, gid=CARRIED_MARKS_ID,
                label="carried: the rate of an earlier publication")  # fmt: skip
        _bands(ax, _runs([day for day, _ in carried]), CARRIED_ID,
               "shaded: no publication that day (weekend, holiday, not loaded)",
               facecolor="tab:orange", alpha=0.08)  # fmt: skip


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive days (ascending) as (first, last) runs."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] + ONE_DAY == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _bands(ax, runs: list[tuple[date, date]], gid: str, label: str, **style) -> None:
    """Full-height bands over the days of each run, one collection (fast for thousands)."""
    from matplotlib.collections import PolyCollection
    from matplotlib.dates import date2num

    verts = []
    for first, last in runs:
        left, right = date2num(first), date2num(last + ONE_DAY)
        verts.append([(left, 0), (left, 1), (right, 1), (right, 0)])
    transform = ax.get_xaxis_transform()  # x in days, y from the bottom (0) to the top (1)
    bands = PolyCollection(verts, transform=transform, linewidth=0, label=label, **style)
    bands.set_gid(gid)
    ax.add_collection(bands)

"""`makerates chart`: BASE→QUOTE over calendar days as a PNG, SVG or PDF, chosen by the
output's extension (matplotlib, Agg backend).

A step line over every calendar day; publication days are filled markers, days that carry
the previous publication forward (weekends, holidays) are hollow markers on a shaded band.
matplotlib is the optional `chart` extra, imported only when a chart is drawn.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from makerates_core.errors import UserError

from makerates_gold.reads import Series


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


def draw(series: Series, output: str) -> Path:
    fmt = chart_format(output)
    plt = _pyplot()
    days = [(d, p, carried) for d, p, carried in series.calendar() if p is not None]
    path = Path(output)
    if path.parent and not path.parent.exists():
        raise UserError(f"cannot write {output}: directory {path.parent} does not exist")
    fig, ax = plt.subplots(figsize=(10, 4.5), dpi=100)
    try:
        x = [d for d, _, _ in days]
        y = [float(p.rate) for _, p, _ in days]
        ax.step(x, y, where="post", color="tab:blue", linewidth=1.2, label="rate in force")
        published = [(d, v) for (d, _, c), v in zip(days, y, strict=True) if not c]
        carried = [(d, v) for (d, _, c), v in zip(days, y, strict=True) if c]
        if published:
            ax.plot(
                *zip(*published, strict=True),
                "o",
                color="tab:blue",
                markersize=3,
                label="ECB publication day",
            )
        if carried:
            ax.plot(
                *zip(*carried, strict=True),
                "o",
                markerfacecolor="white",
                markeredgecolor="tab:orange",
                markersize=4,
                label="carried forward (no publication)",
            )
            for day, _ in carried:
                ax.axvspan(
                    day, day + timedelta(days=1), color="tab:orange", alpha=0.08, linewidth=0
                )
        ax.set_title(f"{series.base}/{series.quote}  {series.start} .. {series.end}")
        ax.set_ylabel(f"{series.quote} per 1 {series.base}")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=8)
        fig.autofmt_xdate()
        fig.tight_layout()
        try:
            fig.savefig(path, format=fmt)
        except OSError as exc:
            raise UserError(f"cannot write {output}: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)
    return path

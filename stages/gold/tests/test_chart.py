"""`makerates chart`: real files of silver's calendar, read back: carried days, gaps, legend,
formats; on both stores."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from makerates_gold import chart
from makerates_gold.sync import sync

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_chart_command_writes_a_png(deployment, q1_2024, tmp_path):
    target = tmp_path / "usd-jpy.png"
    done = deployment.run(
        "makerates",
        "chart",
        "USD",
        "JPY",
        "--from",
        "2024-02-01",
        "--to",
        "2024-03-31",
        "-o",
        str(target),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {target}")
    data = target.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 20_000


def _svg_group(svg: str, gid: str) -> str | None:
    """The markup of the <g id=gid> matplotlib wrote for an artist (None: not drawn)."""
    start = svg.find(f'<g id="{gid}">')
    return None if start < 0 else svg[start : svg.index("</g>", start)]


def _line_runs(svg: str) -> int:
    """How many separate runs the step line is drawn in: a path's moveto commands."""
    path = re.search(r'\sd="([^"]*)"', _svg_group(svg, chart.LINE_ID) or "")
    return len(re.findall(r"\bM\b", path.group(1))) if path else 0


def _chart(deployment, tmp_path, first: str, last: str, name: str = "c.svg"):
    target = tmp_path / name
    args = ("chart", "USD", "JPY", "--from", first, "--to", last, "-o", str(target))
    done = deployment.run("makerates", *args)
    assert done.returncode == 0, done.stderr
    return done, target.read_text()


def test_carried_days_are_shaded_and_hollow_and_the_legend_names_every_mark(
    deployment, q1_2024, tmp_path
):
    # Saturday 23 March .. Wednesday 3 April: weekends, Good Friday, Easter Monday and the
    # days after the last publication (28 March) are carried by silver's calendar.
    done, svg = _chart(deployment, tmp_path, "2024-03-23", "2024-04-03")
    assert done.stderr == "" and "(4 publication days, 2024-03-23..2024-04-03)" in done.stdout
    carried = _svg_group(svg, chart.CARRIED_ID)
    assert carried is not None and carried.count("<path") == 2  # 23-24 March, 29 March-3 April
    assert _svg_group(svg, chart.CARRIED_MARKS_ID).count("<use") == 8
    assert _svg_group(svg, chart.PUBLISHED_ID).count("<use") == 4
    assert _svg_group(svg, chart.GAP_ID) is None and _line_runs(svg) == 1
    for label in (
        "rate in force on each calendar day",
        "publication day (blend)",
        "carried: the rate of an earlier publication",
        "shaded: no publication that day (weekend, holiday, not loaded)",
    ):
        assert f"<!-- {label} -->" in svg or f">{label}<" in svg, label


def test_a_span_longer_than_the_carry_is_a_gap_never_a_line(make_deployment, ecb, tmp_path):
    """January and March loaded, February not: January's last rate (31st) is in force until
    14 February, then nothing until 1 March."""
    deployment = make_deployment("sqlite")
    deployment.publish("silver-gap", {**ecb("2024-01-02", "2024-01-31"), **ecb("2024-03-01", "2024-03-28")})  # fmt: skip
    sync(deployment.settings, deployment.store())
    done, svg = _chart(deployment, tmp_path, "2024-01-01", "2024-03-31")
    assert [line.split(" (")[0] for line in done.stderr.splitlines()] == [
        "warning: no USD/JPY rate in force from 2024-01-01 to 2024-01-01",
        "warning: no USD/JPY rate in force from 2024-02-15 to 2024-02-29",
    ]
    assert _line_runs(svg) == 2  # split at the gap
    gaps = _svg_group(svg, chart.GAP_ID)
    assert gaps is not None and gaps.count("<path") == 2
    assert "no rate in force: not loaded, or not published" in svg


def test_a_long_range_is_the_line_alone(deployment, q1_2024, tmp_path):
    done, svg = _chart(deployment, tmp_path, "2023-01-02", "2024-12-31")
    assert done.stderr.count("warning: ") == 2  # before January, after 11 April
    assert _svg_group(svg, chart.PUBLISHED_ID) is None
    assert _svg_group(svg, chart.CARRIED_ID) is None
    assert _line_runs(svg) == 1 and _svg_group(svg, chart.GAP_ID).count("<path") == 2


def test_without_matplotlib_the_error_says_what_to_install(deployment, q1_2024, tmp_path):
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text("import sys\nsys.modules['matplotlib'] = None\n")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from makerates_gold.reader_cli import main; raise SystemExit(main())",
            "chart",
            "USD",
            "JPY",
            "--from",
            "2024-03-01",
            "--to",
            "2024-03-08",
            "-o",
            str(tmp_path / "x.png"),
        ],
        env={**deployment.env, "PYTHONPATH": str(blocker)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: charts need matplotlib; install it with `pip install 'makerates-gold[chart]'`"
    ]
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(
    ("name", "magic"), [("usd-jpy.svg", b"<?xml"), ("usd-jpy.PDF", b"%PDF")], ids=["svg", "pdf"]
)
def test_the_file_extension_chooses_the_format(deployment, q1_2024, tmp_path, name, magic):
    target = tmp_path / name
    args = ("chart", "USD", "JPY", "--from", "2024-03-01", "--to", "2024-03-31", "-o")
    done = deployment.run("makerates", *args, str(target))
    assert done.returncode == 0, done.stderr
    assert target.read_bytes().startswith(magic)


def test_an_unknown_extension_is_one_line_and_writes_nothing(deployment, q1_2024, tmp_path):
    target = tmp_path / "usd-jpy.jpg"
    args = ("chart", "USD", "JPY", "--from", "2024-03-01", "--to", "2024-03-31", "-o")
    done = deployment.run("makerates", *args, str(target))
    assert done.returncode == 2
    assert done.stderr == f"error: cannot draw {target}: give a file ending in .png, .svg, .pdf\n"
    assert not target.exists()

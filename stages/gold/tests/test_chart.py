"""`makerates chart`: a real PNG of the series, carried-forward days drawn; on both stores."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest
from makerates_gold import reads

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


def test_chart_draws_carried_days_hollow(deployment, q1_2024, tmp_path):
    from makerates_gold.chart import draw

    series = reads.history(
        deployment.store(), deployment.table, "EUR", "USD", date(2024, 3, 23), date(2024, 4, 3)
    )
    carried = [d for d, p, c in series.calendar() if c]
    # Saturday 23 .. Wednesday 3 April: weekends, Good Friday, Easter Monday and after the
    # last publication (28 March) every day is carried.
    assert [d.isoformat() for d in carried] == [
        "2024-03-23",
        "2024-03-24",
        "2024-03-29",
        "2024-03-30",
        "2024-03-31",
        "2024-04-01",
        "2024-04-02",
        "2024-04-03",
    ]
    path = draw(series, str(tmp_path / "c.png"))
    assert path.read_bytes()[:8] == PNG_MAGIC


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

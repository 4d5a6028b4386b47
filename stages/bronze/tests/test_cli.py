"""`makerates-bronze` as Kestra and `just` call it: env in, Kestra output lines and exit codes out.

Each source loads on its own: exit 0 when all loaded, or when some failed but the ECB or its
backup (Frankfurter) loaded (a WARNING and `missing_sources` say which are missing); exit 3
when every source failed or both ECB-family sources did.
"""

from __future__ import annotations

import json
import re
import socket
from datetime import UTC, date, datetime

import pytest
from bronze_helpers import completed_rows, published
from makerates_bronze import ecb
from makerates_bronze.cli import main


@pytest.fixture
def env(monkeypatch, tmp_path, ecb_mirror):
    lake = tmp_path / "lake"
    values = {
        "LAKE_URL": str(lake),
        "HOT_STORE": str(tmp_path / "hot.sqlite3"),
        "RUN_ID": "test-run",
        "HTTP_TIMEOUT_SECONDS": "5",
        **ecb_mirror.env,
        # the ECB, its backup and the independent check: how sources fail and fall back (the
        # official providers are tested in test_providers_cli.py)
        "SOURCES": "ecb,frankfurter,exchangerate_api",
    }
    for name in ("S3_ENDPOINT_URL", "DYNAMODB_ENDPOINT_URL", "INITIAL_LOOKBACK_DAYS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return lake


def outputs(stdout: str) -> dict:
    merged: dict = {}
    for line in stdout.splitlines():
        if line.startswith('::{"outputs"'):
            merged.update(json.loads(line[2:-2])["outputs"])
    return merged


def lookback_to(day: str) -> str:
    """INITIAL_LOOKBACK_DAYS that makes a first run start at `day` (the CLI runs on today)."""
    return str((datetime.now(UTC).date() - date.fromisoformat(day)).days)


def error_lines(err: str) -> list[str]:
    assert "Traceback" not in err
    return [line for line in err.splitlines() if line.startswith("error:")]


def test_backfill_then_run_report_rows_document_and_newest_day_per_source(
    env, ecb_mirror, ecb_history, monkeypatch, capsys
):
    monkeypatch.setenv("INITIAL_LOOKBACK_DAYS", lookback_to("2026-10-01"))
    assert main(["backfill", "2024-03-25", "2024-03-28"]) == 0
    captured = capsys.readouterr()
    out = outputs(captured.out)
    assert out["status"] == "succeeded"
    assert out["missing_sources"] == []
    sources = out["sources"]
    assert sources["ecb"]["document"] == ecb.HISTORY  # the mirror is at 2026-10-30
    assert sources["frankfurter"]["document"] == "/v1/2024-03-25..2024-03-28"
    assert sources["exchangerate_api"]["status"] == "skipped"  # no history to backfill
    assert "exchangerate_api: skipped by the backfill" in captured.err
    for source in ("ecb", "frankfurter"):  # the extraction's progress, as plain log lines
        assert re.search(
            rf"bronze {source} rows extracted: \d+ done in [\d.]+s \(\d+/s\)", captured.err
        )
    expected = published(ecb_history, "2024-03-25", "2024-03-28")
    assert out["rows_loaded_ecb"] == len(completed_rows(env)) == len(expected)
    assert out["rows_loaded_frankfurter"] == len(expected)
    assert out["rows_loaded"] == 2 * len(expected)
    assert out["max_rate_date"] == sources["ecb"]["max_rate_date"] == "2024-03-28"

    assert main(["run"]) == 0  # the cursors are still empty: from 2026-10-01 on
    out = outputs(capsys.readouterr().out)
    assert out["max_rate_date"] == "2026-10-30"
    october = len(published(ecb_history, "2026-10-01", "2026-10-30"))
    assert out["rows_loaded_ecb"] == out["rows_loaded_frankfurter"] == october
    assert out["rows_loaded_exchangerate_api"] == 162
    assert out["sources"]["exchangerate_api"]["max_rate_date"] == "2026-10-30"


def test_one_source_down_the_others_load_and_the_run_says_which_is_missing(
    env, ecb_mirror, ecb_history, monkeypatch, capsys
):
    ecb_mirror.set_as_of("2026-10-30")
    monkeypatch.setenv("INITIAL_LOOKBACK_DAYS", lookback_to("2026-10-25"))
    ecb_mirror.fail_source("frankfurter", 404)
    assert main(["run"]) == 0
    captured = capsys.readouterr()
    out = outputs(captured.out)
    assert out["status"] == "succeeded"
    assert out["missing_sources"] == ["frankfurter"]
    assert list(out["sources"]) == ["ecb", "frankfurter", "exchangerate_api"]  # SOURCES' order
    assert out["sources"]["frankfurter"]["status"] == "failed"
    assert "/frankfurter/v1/" in out["sources"]["frankfurter"]["error"]
    assert out["sources"]["ecb"]["status"] == out["sources"]["exchangerate_api"]["status"]
    assert out["rows_loaded_ecb"] == len(published(ecb_history, "2026-10-25", "2026-10-30"))
    warnings = [ln for ln in captured.err.splitlines() if "WARNING" in ln]
    assert len(warnings) == 1
    assert "sources failed: frankfurter (" in warnings[0]
    assert (
        f"loaded: ecb ({out['rows_loaded_ecb']} rows), exchangerate_api (162 rows)" in (warnings[0])
    )
    assert not error_lines(captured.err)
    assert len(completed_rows(env, "exchangerate_api_rates")) == 162
    assert not (env / "bronze" / "frankfurter_rates").exists()

    ecb_mirror.reset()  # Frankfurter is back: the next run fills its gap
    monkeypatch.setenv("SOURCES", "frankfurter")
    assert main(["run"]) == 0
    out = outputs(capsys.readouterr().out)
    assert out["rows_loaded_frankfurter"] == len(published(ecb_history, "2026-10-25", "2026-10-30"))


def test_ecb_and_its_backup_down_is_exit_3_though_the_independent_source_loaded(
    env, ecb_mirror, monkeypatch, capsys
):
    ecb_mirror.fail_source("ecb", 404)
    ecb_mirror.fail_source("frankfurter", 404)
    assert main(["run"]) == 3
    captured = capsys.readouterr()
    (line,) = error_lines(captured.err)
    assert line.startswith("error: sources failed: ecb (cannot fetch ")
    assert "; frankfurter (cannot fetch " in line
    assert line.endswith("loaded: exchangerate_api (162 rows); re-run when the sources are back")
    out = outputs(captured.out)
    assert out["status"] == "failed"
    assert out["missing_sources"] == ["ecb", "frankfurter"]
    assert len(completed_rows(env, "exchangerate_api_rates")) == 162  # committed all the same


def test_every_source_down_is_exit_3_and_nothing_is_written(env, ecb_mirror, capsys):
    ecb_mirror.fail_with = 404
    assert main(["run"]) == 3
    (line,) = error_lines(capsys.readouterr().err)
    assert "loaded: none" in line
    assert not (env / "bronze" / "ecb_rates").exists()


def test_sources_switches_sources_off_and_names_the_valid_ones(
    env, ecb_mirror, monkeypatch, capsys
):
    monkeypatch.setenv("SOURCES", "exchangerate_api")
    assert main(["run"]) == 0
    out = outputs(capsys.readouterr().out)
    assert list(out["sources"]) == ["exchangerate_api"]
    assert ecb_mirror.requests == ["/erapi/v6/latest/USD"]
    assert not (env / "bronze" / "ecb_rates").exists()

    assert main(["backfill", "2024-03-25", "2024-03-28"]) == 2
    assert error_lines(capsys.readouterr().err) == [
        "error: SOURCES=exchangerate_api has no history to backfill; "
        "add ecb or frankfurter to SOURCES"
    ]

    monkeypatch.setenv("SOURCES", "ecb,fixer")
    assert main(["run"]) == 2
    assert error_lines(capsys.readouterr().err) == [
        "error: SOURCES='ecb,fixer' names unknown sources fixer; "
        "use a comma list of ecb, frankfurter, boc, nbp, cnb, nbu, rba, imf, boi, bnr, "
        "exchangerate_api"
    ]


def test_upstream_failure_is_one_line_and_exit_3(env, ecb_mirror, monkeypatch, capsys):
    monkeypatch.setenv("SOURCES", "ecb")
    monkeypatch.setenv("ECB_BASE_URL", ecb_mirror.base_url + "/missing")
    assert main(["run"]) == 3
    (line,) = error_lines(capsys.readouterr().err)
    assert "/missing/eurofxref-daily.xml" in line
    assert "ECB_BASE_URL" in line
    assert not (env / "bronze" / "ecb_rates").exists()


@pytest.mark.parametrize(
    ("source", "body", "message"),
    [
        ("frankfurter", b"<html>busy</html>", "/frankfurter/v1/2026-10-25..20"),
        ("frankfurter", b'{"message":"hi"}', "answered JSON without `rates` (keys: message)"),
        (
            "exchangerate_api",
            b'{"result":"error","error-type":"quota-reached"}',
            "/erapi/v6/latest/USD answered result='error' (quota-reached); check EXCHANGERATE",
        ),
    ],
)
def test_a_bad_payload_is_one_line_naming_the_url(
    env, ecb_mirror, monkeypatch, capsys, source, body, message
):
    ecb_mirror.set_as_of("2026-10-30")
    monkeypatch.setenv("INITIAL_LOOKBACK_DAYS", lookback_to("2026-10-25"))
    monkeypatch.setenv("SOURCES", source)
    ecb_mirror.fail_source(source, 200, body)
    assert main(["run"]) == 3
    (line,) = error_lines(capsys.readouterr().err)
    assert message in line
    assert not (env / "bronze" / f"{source}_rates").exists()


def test_bad_backfill_range_is_exit_2_before_touching_anything(env, capsys):
    assert main(["backfill", "2024-03-28", "2024-03-01"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: START 2024-03-28 is after END 2024-03-01; give the older day first"
    )
    assert not env.exists()


def test_the_help_documents_the_sources_and_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for words in ("SOURCES", "exchangerate_api", "missing_sources", "3  every enabled source"):
        assert words in text


def test_no_network_is_one_short_line_per_source_and_a_pointer_to_the_mirror(
    env, monkeypatch, capsys
):
    with socket.socket() as probe:  # a port nothing listens on: every connect is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for key in ("ECB", "FRANKFURTER", "EXCHANGERATE_API"):
        monkeypatch.setenv(f"{key}_BASE_URL", f"http://127.0.0.1:{port}/{key.lower()}")
    assert main(["run"]) == 3
    err = capsys.readouterr().err
    failed = [line for line in err.splitlines() if " ERROR " in line]
    assert len(failed) == 3 and all(len(line) < 260 for line in failed), failed
    assert all(": connection refused; check " in line for line in failed), failed
    (line,) = error_lines(err)
    assert line.endswith(
        "; no network? `uv run just ecb-mirror` serves every source on this machine and prints "
        "the <KEY>_BASE_URL settings to export"
    )

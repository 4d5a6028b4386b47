"""Kestra's output lines: what a stage prints is what the reader gets back."""

from __future__ import annotations

from makerates_core.events import kestra_line, read_outputs


def test_output_lines_merge_and_other_lines_are_ignored():
    stdout = "\n".join(
        [
            "2026-11-27T00:00:00 silver INFO building",
            kestra_line("outputs", {"run_id": "r1", "rows": 3}),
            kestra_line("metrics", [{"name": "rows", "value": 3}]),
            kestra_line("outputs", {"rows": 4, "missing_sources": ["frankfurter"]}),
        ]
    )
    assert read_outputs(stdout) == {"run_id": "r1", "rows": 4, "missing_sources": ["frankfurter"]}

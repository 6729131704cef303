"""The bench's `lakehouse query "SELECT 1"` figure: real subprocesses on an empty root (no speed asserted)."""

from pathlib import Path

import pytest

from lakehouse.bench.query_timing import QueryTimingError, markdown_line, time_select_1


def test_select_1_is_timed_in_fresh_processes(tmp_path: Path) -> None:
    figures = time_select_1(tmp_path, runs=1)
    assert figures["query"] == "SELECT 1" and figures["runs"] == 1
    assert 0 < figures["min_s"] == figures["median_s"] == figures["max_s"]
    assert markdown_line(figures).startswith('`lakehouse query "SELECT 1"` (a fresh process, warm): median ')


def test_a_failing_query_command_is_reported_not_timed(tmp_path: Path) -> None:
    with pytest.raises(QueryTimingError, match="no lakehouse at"):
        time_select_1(tmp_path / "missing", runs=1)

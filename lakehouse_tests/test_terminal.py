"""The terminal helpers of `lakehouse run`: the runs' output (this process's and its children's) goes to the run log, `--verbose` streams it,
and the package filters the warnings a user cannot act on in every process that imports it."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lakehouse.terminal import output_to, run_log_path, streamed

CHILD = "import sys; print('to stdout'); print('to stderr', file=sys.stderr)"


def test_the_block_and_its_children_write_to_the_log_and_the_terminal_stays_for_progress(
    tmp_path: Path, capfd: pytest.CaptureFixture
) -> None:
    log = run_log_path(tmp_path)
    assert log.parent == tmp_path / "logs" and log.name.startswith("run-") and log.suffix == ".log"
    with output_to(log) as terminal:
        subprocess.run([sys.executable, "-c", CHILD], check=True)
        os.write(1, b"own stdout\n")
        os.write(2, b"own stderr\n")
        terminal.write("progress\n")
    print("after the block")
    captured = capfd.readouterr()
    assert sorted(log.read_text().splitlines()) == ["own stderr", "own stdout", "to stderr", "to stdout"]
    assert "to stdout" not in captured.out + captured.err and "own std" not in captured.out + captured.err
    assert captured.err == "progress\n"
    assert "after the block" in captured.out


def test_streamed_copies_what_the_log_gains_while_the_block_runs(tmp_path: Path) -> None:
    log = run_log_path(tmp_path)
    out = io.StringIO()
    with streamed(log, out, enabled=True):
        with log.open("a") as file:
            file.write("event one\nevent two\n")
    assert out.getvalue() == "event one\nevent two\n"
    quiet = io.StringIO()
    with streamed(log, quiet, enabled=False):
        with log.open("a") as file:
            file.write("event three\n")
    assert quiet.getvalue() == ""


def test_importing_lakehouse_silences_dagster_beta_and_preview_warnings() -> None:
    code = ("import warnings; warnings.simplefilter('default'); import lakehouse; "
            "from dagster_shared.utils.warnings import BetaWarning, PreviewWarning; "
            "warnings.warn('beta', BetaWarning); warnings.warn('preview', PreviewWarning); "
            "warnings.warn('kept', UserWarning)")
    done = subprocess.run([sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[1])
    assert "BetaWarning" not in done.stderr and "PreviewWarning" not in done.stderr
    assert "UserWarning: kept" in done.stderr

"""What `lakehouse` commands print: known noise filtered in one place, the runs' output in the run log."""

from __future__ import annotations

import os
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO


def quiet_warnings() -> None:
    """Ignore the warnings a user of the lakehouse cannot act on: Dagster's beta and preview notices about the
    APIs the code location uses, and fakesnow's notes on the SQL it emulates. Every lakehouse process (CLI, code
    server, run worker) applies it on importing the package."""
    from dagster_shared.utils.warnings import BetaWarning, PreviewWarning

    warnings.filterwarnings("ignore", category=BetaWarning)
    warnings.filterwarnings("ignore", category=PreviewWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module=r"fakesnow(\.|$)")


def run_log_path(root: Path) -> Path:
    """A new log file for one `lakehouse run`: `<root>/logs/run-<UTC timestamp>.log`."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    path = root / "logs" / f"run-{stamp}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    return path


@contextmanager
def output_to(path: Path) -> Iterator[TextIO]:
    """Inside the block, whatever this process and the processes it starts write to stdout and stderr (Dagster's
    event log, Spark's output) goes to `path`; the block gets a stream on the terminal's stderr, for the progress
    display. After the block this process's own streams are back on the terminal."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = [os.dup(1), os.dup(2)]
    terminal = os.fdopen(os.dup(saved[1]), "w", buffering=1, encoding=sys.stderr.encoding, errors="replace")
    log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(log, 1)
        os.dup2(log, 2)
        yield terminal
    finally:
        for stream in (sys.stdout, sys.stderr, terminal):
            stream.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        terminal.close()
        for fd in (*saved, log):
            os.close(fd)


@contextmanager
def streamed(path: Path, out: TextIO, enabled: bool) -> Iterator[None]:
    """While the block runs (and once more at its end), copy what is appended to `path` onto `out` if `enabled`."""
    if not enabled:
        yield
        return
    done = threading.Event()

    def tail() -> None:
        with path.open(errors="replace") as log:
            while True:
                finished = done.is_set()
                chunk = log.read()
                if chunk:
                    out.write(chunk)
                    out.flush()
                if finished:
                    return
                done.wait(0.2)

    thread = threading.Thread(target=tail, name="run-log", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()

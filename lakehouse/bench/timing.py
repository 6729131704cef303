"""Process-tree measurements: a background sampler of CPU time and resident memory, and wall-clock spans."""

from __future__ import annotations

import bisect
import os
import threading
import time
from dataclasses import dataclass, field

import psutil

SAMPLE_SECONDS = 0.2


@dataclass(frozen=True)
class Sample:
    """One reading of the process tree: epoch time, cumulative CPU seconds, resident bytes, system load."""

    at: float
    cpu: float
    rss: int
    load: float


def _tree_cpu_and_rss(root: psutil.Process) -> tuple[float, int]:
    """CPU seconds used so far by `root`, its live descendants and its reaped children; resident bytes of the tree."""
    times = root.cpu_times()
    cpu = times.user + times.system + times.children_user + times.children_system
    rss = root.memory_info().rss
    for child in root.children(recursive=True):
        try:
            child_times = child.cpu_times()
            cpu += child_times.user + child_times.system
            rss += child.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return cpu, rss


def tree_cpu_seconds() -> float:
    """CPU seconds used so far by this process, its live descendants (a JVM) and its reaped children."""
    return _tree_cpu_and_rss(psutil.Process())[0]


class TreeSampler:
    """Samples this process tree every SAMPLE_SECONDS in a daemon thread; answers CPU and peak-RSS questions by time."""

    def __init__(self, interval: float = SAMPLE_SECONDS) -> None:
        self.interval = interval
        self.samples: list[Sample] = []
        self._process = psutil.Process(os.getpid())
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="bench-sampler", daemon=True)

    def __enter__(self) -> TreeSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> Sample:
        """Take one reading now and keep it."""
        cpu, rss = _tree_cpu_and_rss(self._process)
        reading = Sample(time.time(), cpu, rss, os.getloadavg()[0])
        with self._lock:
            self.samples.append(reading)
        return reading

    def _snapshot(self) -> list[Sample]:
        with self._lock:
            return list(self.samples)

    def cpu_at(self, at: float) -> float:
        """Cumulative tree CPU seconds at epoch time `at`, interpolated between the neighbouring samples."""
        samples = self._snapshot()
        times = [s.at for s in samples]
        i = bisect.bisect_left(times, at)
        if i <= 0:
            return samples[0].cpu
        if i >= len(samples):
            return samples[-1].cpu
        before, after = samples[i - 1], samples[i]
        share = (at - before.at) / (after.at - before.at) if after.at > before.at else 1.0
        return before.cpu + share * (after.cpu - before.cpu)

    def cpu_between(self, start: float, end: float) -> float:
        """Tree CPU seconds spent between two epoch times."""
        return max(0.0, self.cpu_at(end) - self.cpu_at(start))

    def peak_rss(self, start: float | None = None, end: float | None = None) -> int:
        """Largest tree resident set seen in [start, end] (the whole run by default), in bytes."""
        samples = [s for s in self._snapshot() if (start is None or s.at >= start) and (end is None or s.at <= end)]
        return max((s.rss for s in samples), default=0)

    def load(self, start: float, end: float) -> dict[str, float]:
        """Mean and maximum one-minute load average, and the tree's own mean busy cores, over [start, end]."""
        samples = [s for s in self._snapshot() if start <= s.at <= end]
        if not samples:
            return {"mean": 0.0, "max": 0.0, "own_cores": 0.0}
        own = self.cpu_between(start, end) / (end - start) if end > start else 0.0
        return {"mean": sum(s.load for s in samples) / len(samples), "max": max(s.load for s in samples), "own_cores": own}


@dataclass
class Span:
    """A measured interval: epoch start and end, and the tree CPU spent in it once closed."""

    start: float = field(default_factory=time.time)
    end: float = 0.0

    def close(self) -> Span:
        """Mark the end of the interval now."""
        self.end = time.time()
        return self

    @property
    def seconds(self) -> float:
        """Wall-clock seconds of the interval."""
        return (self.end or time.time()) - self.start

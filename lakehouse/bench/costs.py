"""Typed bench figures: the cost of a piece of work, a floor's cost per stage part, and a stage's ratios to the floors."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")
# The pipeline stages a floor has a part of; every other stage is held to a floor's whole work.
FLOOR_PARTS: tuple[str, ...] = ("bronze", "silver", "gold")
TOTAL = "total"


@dataclass(frozen=True)
class Cost:
    """Wall-clock and CPU seconds of one piece of work."""

    wall_s: float = 0.0
    cpu_s: float = 0.0

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.wall_s + other.wall_s, self.cpu_s + other.cpu_s)


def measured(work: Callable[[], T]) -> tuple[T, Cost]:
    """Run `work` in this process; its result and its wall and process CPU seconds (threads such as DuckDB's count)."""
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, Cost(time.perf_counter() - started, time.process_time() - cpu)


@dataclass(frozen=True)
class FloorCost:
    """A floor's cost per stage part (sources → bronze, bronze → silver, silver → gold) and in total."""

    bronze: Cost
    silver: Cost
    gold: Cost

    @property
    def total(self) -> Cost:
        """The whole floor: bronze, silver and gold."""
        return self.bronze + self.silver + self.gold

    def part(self, name: str) -> Cost:
        """The part named `name` (bronze, silver, gold), or the total for `total`."""
        if name == TOTAL:
            return self.total
        if name not in FLOOR_PARTS:
            raise ValueError(f"a floor has no part {name!r}; parts: {', '.join((*FLOOR_PARTS, TOTAL))}")
        return getattr(self, name)

    def as_dict(self) -> dict[str, float]:
        """`<part>_s` and `<part>_cpu_s` for every part and the total."""
        out: dict[str, float] = {}
        for name in (*FLOOR_PARTS, TOTAL):
            cost = self.part(name)
            out.update({f"{name}_s": cost.wall_s, f"{name}_cpu_s": cost.cpu_s})
        return out


def ratio(value: float, floor: float) -> float | None:
    """value / floor, or None without a floor."""
    return round(value / floor, 2) if floor > 0 else None


def floor_part(stage: str) -> str:
    """The floor part a stage is held to: its own for bronze, silver and gold, the floor's total for any other."""
    return stage if stage in FLOOR_PARTS else TOTAL


@dataclass(frozen=True)
class Ratios:
    """A stage's wall and CPU seconds over a floor part's, for the DuckDB and the I/O floor."""

    part: str
    duckdb: float | None
    io: float | None
    duckdb_cpu: float | None
    io_cpu: float | None

    @classmethod
    def of(cls, stage: str, cost: Cost, duckdb: FloorCost, io: FloorCost) -> Ratios:
        """The ratios of `cost`, spent by `stage`, to the floors' part for that stage."""
        part = floor_part(stage)
        duck, io_part = duckdb.part(part), io.part(part)
        return cls(part, ratio(cost.wall_s, duck.wall_s), ratio(cost.wall_s, io_part.wall_s),
                   ratio(cost.cpu_s, duck.cpu_s), ratio(cost.cpu_s, io_part.cpu_s))

    def as_dict(self) -> dict[str, Any]:
        """The report's ratio fields."""
        return {"floor_part": self.part, "ratio_duckdb": self.duckdb, "ratio_io": self.io,
                "ratio_duckdb_cpu": self.duckdb_cpu, "ratio_io_cpu": self.io_cpu}

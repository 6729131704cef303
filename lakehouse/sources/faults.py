"""Seeded faults: per delivered row, the versions, duplicates, variations and bad rows around its true version."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lakehouse.sources.plan import row_seconds, stamp

RULES: tuple[str, ...] = (
    "null_key", "unparseable_date", "unparseable_number", "negative_value",
    "unknown_foreign_key", "wrong_column_count", "malformed_line",
)
FRESH_KEY_BASE = 10**12
UNKNOWN_KEY_BASE = 2 * 10**12
BAD_NUMBER = "#VALUE!"
EXTRA_FIELD = "EXTRA"

Row = list  # a row of raw values: strings or None


@dataclass(frozen=True)
class Entity:
    """How faults apply to one source entity: which columns may be padded, broken, mutated."""

    name: str
    columns: tuple[str, ...]
    pad: tuple[str, ...]
    codes: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    null: str | None = None
    number: str | None = None
    negative: str | None = None
    fk: str | None = None
    fresh: tuple[str, int] | None = None
    wrong_count: bool = False
    mutate: tuple[str, ...] = ()

    @property
    def rules(self) -> tuple[str, ...]:
        """The rules this entity's bad rows break."""
        present = {
            "null_key": self.null, "unparseable_date": self.dates or None, "unparseable_number": self.number,
            "negative_value": self.negative, "unknown_foreign_key": self.fk, "wrong_column_count": self.wrong_count or None,
        }
        return tuple(r for r, v in present.items() if v)

    def index(self, column: str) -> int:
        """Position of a column in a row."""
        return self.columns.index(column)


@dataclass(frozen=True)
class Rates:
    """Per-row fault probabilities and the bad-row rate per rule."""

    superseded: float = 0.01
    stale: float = 0.005
    duplicate: float = 0.005
    variation: float = 0.03
    bad: float = 0.001


@dataclass(frozen=True)
class Emitted:
    """One delivered row: values, business version time, fault kind and broken rule (bad rows only)."""

    values: Row
    updated_at: str
    kind: str
    rule: str | None = None


def _bump(value: str) -> str:
    """A different valid value for a numeric or text column."""
    if value.lstrip("-").replace(".", "", 1).isdigit():
        return str(Decimal(value) + 1) if "." in value else str(int(value) + 1)
    return value + " (rev)"


class Faulter:
    """Emits one entity's rows for one day with seeded faults; fresh-key counters persist across days."""

    def __init__(self, entity: Entity, rng: random.Random, rates: Rates = Rates()) -> None:
        self.entity, self.rng, self.rates = entity, rng, rates
        self.counter = 0

    def intermediate(self, row: Row) -> Row:
        """A valid version that differs from the true one."""
        out = list(row)
        for column in self.entity.mutate:
            i = self.entity.index(column)
            out[i] = _bump(out[i])
        return out

    def vary(self, row: Row) -> Row:
        """The true row with one format variation silver must undo."""
        e, out = self.entity, list(row)
        kinds = ["pad"] + (["lower"] if e.codes else []) + (["date"] if e.dates else [])
        kind = self.rng.choice(kinds)
        if kind == "lower":
            i = e.index(self.rng.choice(e.codes))
            out[i] = out[i].lower()
        elif kind == "date":
            i = e.index(self.rng.choice(e.dates))
            y, m, d = out[i].split("-")
            out[i] = f"{m}/{d}/{y}"
        else:
            i = e.index(self.rng.choice(e.pad))
            left, right = self.rng.choice([(1, 0), (0, 1), (2, 2), (0, 3)])
            out[i] = " " * left + out[i] + " " * right
        return out

    def bad(self, row: Row, rule: str) -> Row:
        """A copy of a true row that breaks exactly `rule`."""
        e, out = self.entity, list(row)
        if rule == "null_key":
            out[e.index(e.null)] = None
        elif rule == "unparseable_date":
            i = e.index(e.dates[0])
            out[i] = out[i].replace("-", ".")
        elif rule == "unparseable_number":
            out[e.index(e.number)] = BAD_NUMBER
        elif rule == "negative_value":
            out[e.index(e.negative)] = "-" + out[e.index(e.negative)]
        elif rule == "unknown_foreign_key":
            self.counter += 1
            out[e.index(e.fk)] = str(UNKNOWN_KEY_BASE + self.counter)
            if e.fresh:
                out[e.index(e.fresh[0])] = str(e.fresh[1] + self.counter)
        elif rule == "wrong_column_count":
            out.append(EXTRA_FIELD)
        return out

    def emit(self, rows: Iterable[Row], n: int, day: date) -> Iterator[Emitted]:
        """Rows of one day in delivery order: superseded and bad versions before each true row, dups and stale after."""
        rng, rates = self.rng, self.rates
        bad_at: dict[int, list[str]] = {}
        if n:
            for rule in self.entity.rules:
                for i in rng.sample(range(n), min(n, max(1, round(n * rates.bad)))):
                    bad_at.setdefault(i, []).append(rule)
        for i, row in enumerate(rows):
            t = row_seconds(i, n)
            if rng.random() < rates.superseded:
                yield Emitted(self.intermediate(row), stamp(day, t - rng.randint(1, 300)), "superseded")
            for rule in bad_at.get(i, ()):
                yield Emitted(self.bad(row, rule), stamp(day, t - rng.randint(1, 300)), "bad", rule)
            varied = rng.random() < rates.variation
            out = self.vary(row) if varied else row
            yield Emitted(out, stamp(day, t), "varied" if varied else "clean")
            if rng.random() < rates.duplicate:
                yield Emitted(list(out), stamp(day, t), "duplicate")
            if rng.random() < rates.stale:
                yield Emitted(self.intermediate(row), stamp(day, t - rng.randint(1, 300)), "stale")

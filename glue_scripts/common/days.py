"""Ingestion-date ranges: one Glue run may cover several consecutive days, applied one after another in order.

A backfill of N days then costs one Glue job start (and its minimum billing) instead of N, while each day is
processed by exactly the code path of a one-day run, so the data equals N one-day runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import TypeVar

D = TypeVar("D")
END_ARG = "ingestion_date_end"


def ingestion_days(args: dict[str, str]) -> list[str]:
    """The days a run covers: `--ingestion_date` through `--ingestion_date_end` (inclusive, default the same day)."""
    if not args.get("ingestion_date"):
        raise ValueError("missing job argument(s): --ingestion_date")
    first = date.fromisoformat(args["ingestion_date"])
    last = date.fromisoformat(args.get(END_ARG) or args["ingestion_date"])
    if last < first:
        raise ValueError(f"--{END_ARG} {last} is before --ingestion_date {first}")
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def over_days(args: dict[str, str], run_day: Callable[[dict[str, str]], D]) -> dict[str, D]:
    """Run `run_day` for each day in order, each with one-day arguments; the results by day (one day is a range
    of one)."""
    one_day = {k: v for k, v in args.items() if k != END_ARG}
    return {day: run_day({**one_day, "ingestion_date": day}) for day in ingestion_days(args)}

"""What every bronze job shares: its arguments and the partition it writes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from glue_scripts.common.days import over_days
from glue_scripts.common.entry import require
from glue_scripts.common.fs import join
from glue_scripts.common.reports import BronzeDay, BronzeReport, FileNote, LandingCounts, SourceAccounting, as_schema
from glue_scripts.common.specs import BRONZE_BY_NAME, BronzeSpec
from glue_scripts.transforms.bronze import window


@dataclass(frozen=True)
class BronzeArgs:
    """The arguments every bronze job takes: which table and partition, where it lands, which run."""

    spec: BronzeSpec
    ingestion_date: str
    bronze_path: str
    quarantine_path: str
    run_id: str

    @property
    def partition(self) -> str:
        """The partition folder name, `ingestion_date=D`."""
        return f"ingestion_date={self.ingestion_date}"

    @property
    def window(self) -> tuple[str, str]:
        """The partition's watermark window ('D 00:00:00', 'D+1 00:00:00')."""
        return window(self.ingestion_date)


def landing_ref(files: list[Any], folder: str, corrupt: list[dict[str, str]]) -> str:
    """The partition-level source reference of a landing-zone job: how many files, where, how many quarantined."""
    return f"{len(files)} file(s) under {folder}" + (f", {len(corrupt)} quarantined" if corrupt else "")


def bronze_args(args: dict[str, str], job: str) -> BronzeArgs:
    """Validate the common arguments; the table must be one this job ingests."""
    table, day, bronze, quarantine, run_id = require(
        args, "table", "ingestion_date", "bronze_path", "quarantine_path", "run_id"
    )
    spec = BRONZE_BY_NAME.get(table)
    if spec is None or spec.job != job:
        known = sorted(s.name for s in BRONZE_BY_NAME.values() if s.job == job)
        raise ValueError(f"{job} does not ingest table {table!r}; expected one of {known}")
    window(day)
    return BronzeArgs(spec, day, bronze, quarantine, run_id)


def bronze_day(stats: dict[str, Any], source_rows: int, source_ref: str, schema: list[list[str]],
               corrupt: Iterable[dict[str, str]] = (), landing: LandingCounts | None = None,
               accounting: SourceAccounting | None = None) -> BronzeDay:
    """The report of one written partition from the write path's stats (rows, bytes, files, path)."""
    return BronzeDay(rows=int(stats["rows"]), bytes=int(stats["bytes"]), files=int(stats["files"]),
                     path=str(stats["path"]), source_rows=source_rows, source_ref=source_ref, schema=as_schema(schema),
                     corrupt_files=tuple(FileNote(str(c["path"]), str(c["reason"])) for c in corrupt),
                     landing=landing, accounting=accounting)


def bronze_report(args: dict[str, str], job: str, ingest: Callable[[BronzeArgs], BronzeDay]) -> BronzeReport:
    """Run `ingest` for each day of the run (`--ingestion_date` through `--ingestion_date_end`), in order."""
    first = bronze_args(args, job)
    days = over_days(args, lambda day: ingest(bronze_args(day, job)))
    return BronzeReport(job=job, table=first.spec.name, path=join(first.bronze_path, first.spec.name), days=days)

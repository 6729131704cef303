"""What a Glue job reports back to Dagster: one typed report per run, always by day (one day is a range of one).

Both sides import this module: the Glue scripts ship it, so it imports only the standard library, and the Dagster
side parses a report once (`parse_report`) and reads its attributes. Parsing is strict: an unknown, missing or
mistyped field is a `ReportError` naming the job and the field's place in the report.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Union

from glue_scripts.common.strict import ShapeError, decode

ReportError = ShapeError  # a job report that does not have the shape of its dataclass

REPORT_KEY = "report"  # the one Pipes metadata entry a job reports: its report as JSON
Schema = tuple[tuple[str, str], ...]  # (column name, Spark type) pairs, as Spark reports them reading the data back


def as_schema(pairs: Iterable[Sequence[str]]) -> Schema:
    """A schema from [name, type] pairs."""
    return tuple((str(name), str(kind)) for name, kind in pairs)


def plain(part: Any) -> Any:
    """A report or a part of one as plain JSON values (objects, lists), as Dagster's JSON metadata shows it."""
    return json.loads(json.dumps(asdict(part)))


@dataclass(frozen=True)
class FileNote:
    """One landing entry not ingested as it was: a corrupt or refused file, or a name the reader did not take."""

    path: str
    reason: str


@dataclass(frozen=True)
class RejectedRecord:
    """One record of a kept landing file that was not ingested (too large, malformed), by file and line."""

    path: str
    line: int
    bytes: int
    reason: str


@dataclass(frozen=True)
class MissingColumns:
    """The spec columns one landing file's header lacks."""

    path: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class LandingCounts:
    """A landing partition's own accounting (file drops, web logs): records the parsers counted, rejected, unread."""

    files_read: int
    records_read: int
    records_rejected: int
    rejected_records: tuple[RejectedRecord, ...]  # the first LISTED_REJECTS; records_rejected is exact
    skipped_names: tuple[FileNote, ...]
    missing_columns: tuple[MissingColumns, ...]
    parse_failures: int  # web log lines that did not parse (always 0 for CSV and JSON Lines)


@dataclass(frozen=True)
class SourceAccounting:
    """A database partition's totals counted by the database: its rows up to the window's end and what bronze saw."""

    outside_window_rows: int
    source_rows_total: int
    bronze_rows_seen: int


@dataclass(frozen=True)
class BronzeDay:
    """One bronze partition as its ingestion job wrote it: rows read and written, where, and what was quarantined."""

    rows: int
    bytes: int
    files: int
    path: str  # the partition folder
    source_rows: int
    source_ref: str
    schema: Schema
    corrupt_files: tuple[FileNote, ...]
    landing: LandingCounts | None  # file drops and web logs only
    accounting: SourceAccounting | None  # database tables only


@dataclass(frozen=True)
class Reconciliation:
    """One silver batch: bronze_rows against contributing + exact_duplicates + superseded + quarantined."""

    bronze_rows: int
    accounted: int
    difference: int
    reconciles: bool


@dataclass(frozen=True)
class SilverDay:
    """One bronze batch merged into silver: where its rows went, the table's rows after it, what it rewrote."""

    bronze_rows: int
    contributing: int
    exact_duplicates: int
    superseded: int
    quarantined: int
    quarantined_by_rule: dict[str, int]
    held: int
    released: int
    replaced: int
    rows: int  # the silver table's rows after this day
    bytes: int  # of partition D as written
    partitions_rewritten: tuple[str, ...]
    quarantine_partitions_rewritten: tuple[str, ...]
    schema: Schema
    reconciliation: Reconciliation


@dataclass(frozen=True)
class SilverQuality:
    """Quality of the whole current silver table: null and duplicate keys, orphans per foreign key, rule violations."""

    rows: int
    null_keys: int
    duplicate_keys: int
    orphans: dict[str, int]
    violations: dict[str, int]


@dataclass(frozen=True)
class MeasureReconciliation:
    """One gold measure's total against the same total computed on silver (exact decimals as text)."""

    mart: str
    silver: str
    equal: bool


@dataclass(frozen=True)
class GoldQuality:
    """Quality of one mart build: duplicate grain keys, negative rows per measure, totals against silver."""

    grain_duplicates: int
    negative_measures: dict[str, int]
    reconciliation: dict[str, MeasureReconciliation]
    silver_days: dict[str, str | None]  # each input's newest silver partition when the mart was built


@dataclass(frozen=True)
class Partials:
    """An incremental build's per-silver-partition partial aggregates: recomputed, removed, reused."""

    recomputed: tuple[str, ...]
    removed: tuple[str, ...]
    reused: int


@dataclass(frozen=True)
class MartBuild:
    """One gold mart build: the mart written, its measure totals and quality, and how it was computed."""

    rows: int
    bytes: int
    files: int
    path: str  # the mart folder
    schema: Schema
    totals: dict[str, str | int | float]  # decimals as text, integers as int, doubles as float
    quality: GoldQuality
    recompute: str  # full | incremental
    partials: Partials | None  # incremental builds only


class _Report:
    """JSON and by-day access shared by the job reports."""

    JOBS: ClassVar[tuple[str, ...]] = ()
    job: str
    days: dict[str, Any]

    def to_json(self) -> str:
        """The report as JSON text, every field present."""
        return json.dumps(asdict(self))  # type: ignore[call-overload]

    @classmethod
    def from_json(cls, text: str | dict[str, Any]) -> Any:
        """Parse a report of this kind strictly: every field, nothing else, each of its declared type."""
        data = json.loads(text) if isinstance(text, str) else text
        job = data.get("job") if isinstance(data, dict) else None
        name = job if isinstance(job, str) and job else cls.__name__
        if isinstance(job, str) and job not in cls.JOBS:
            raise ReportError(f"{name} report: field job is {job!r}, expected one of {list(cls.JOBS)}")
        report = decode(cls, data, f"{name} report", "report")
        if not report.days:
            raise ReportError(f"{name} report: field days is empty")
        return report

    def for_days(self, days: Sequence[str]) -> dict[str, Any]:
        """The reports of `days`, in that order; a day the job did not report is an error naming it."""
        missing = sorted(set(days) - set(self.days))
        if missing:
            raise ReportError(f"{self.job} report: no result for ingestion date(s) {missing}")
        return {day: self.days[day] for day in days}

    @property
    def last(self) -> Any:
        """The report of the run's last day."""
        return self.days[max(self.days)]


@dataclass(frozen=True)
class BronzeReport(_Report):
    """One bronze ingestion run: its table and, per ingestion day, the partition written."""

    JOBS: ClassVar[tuple[str, ...]] = ("bronze_ingest_api", "bronze_ingest_db", "bronze_ingest_files",
                                       "bronze_ingest_logs")
    job: str
    table: str
    path: str  # the table folder
    days: dict[str, BronzeDay]


@dataclass(frozen=True)
class SilverReport(_Report):
    """One silver_build run: its table, each batch merged in order, and the table's quality after the last one."""

    JOBS: ClassVar[tuple[str, ...]] = ("silver_build",)
    job: str
    table: str
    path: str  # the silver table folder
    quarantine_path: str
    quality: SilverQuality | None  # measured once, after the last day; None for web_events or `--quality false`
    days: dict[str, SilverDay]


@dataclass(frozen=True)
class GoldReport(_Report):
    """One gold_build run: a mart reflects the current silver, so a range is built once, as of its last day, and
    `days` holds that one day's build."""

    JOBS: ClassVar[tuple[str, ...]] = ("gold_build",)
    job: str
    mart: str
    engine: str
    run_id: str
    days: dict[str, MartBuild]


JobReport = Union[BronzeReport, SilverReport, GoldReport]
REPORTS: dict[str, type[BronzeReport] | type[SilverReport] | type[GoldReport]] = {
    job: kind for kind in (BronzeReport, SilverReport, GoldReport) for job in kind.JOBS}


def parse_report(job: str, text: str | dict[str, Any]) -> JobReport:
    """The report of a run of Glue job `job`, parsed strictly; a report of another job is an error too."""
    if job not in REPORTS:
        raise ReportError(f"{job} is not a Glue job with a report; expected one of {sorted(REPORTS)}")
    report = REPORTS[job].from_json(text)
    if report.job != job:
        raise ReportError(f"{job} report: field job is {report.job!r}")
    return report  # type: ignore[no-any-return]

"""The DuckDB floor's bronze part: the simulated sources of the given days into the pipeline's bronze layout.

Every table and day becomes `bronze/<table>/ingestion_date=D/part-00000.parquet` (zstd) with the bronze jobs'
columns: the raw-string data columns (spec columns, extra columns sorted, internal ones), then `_ingestion_date`,
`_ingested_at`, `_source_system`, `_source_ref`, `_run_id` and `_record_hash`, which DuckDB computes as the same
sha2-256 over the length-prefixed values. Rows outside every database window go to the first day, as the first
run that finds them takes them. The readers are in `floor_sources.py`; nothing here calls a bronze job.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from glue_scripts.common.specs import BRONZE_SPECS, BronzeSpec
from lakehouse.bench import floor_sources as read
from lakehouse.sources.api import default_token, make_api_server

CODEC = "zstd"
RUN_ID = "duckdb-floor"
NULL_MARKER = "\\N"
SEPARATOR = "|"
API_PATH = "/v1/customers"
LANDING_SUFFIX = {"csv": ".csv", "jsonl": ".jsonl", "log": ".log.gz"}
Data = pa.Table | pa.RecordBatchReader


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _part(column: str) -> str:
    value = f'CAST("{column}" AS VARCHAR)'
    return f"CASE WHEN {value} IS NULL THEN {_q(NULL_MARKER)} ELSE CAST(length({value}) AS VARCHAR) || ':' || {value} END"


def record_hash_sql(columns: Sequence[str], optional: Sequence[str] = ()) -> str:
    """sha2-256 over the columns' length-prefixed text in order, then each set optional column as name=value."""
    parts = [_part(c) for c in columns]
    parts += [f'CASE WHEN "{c}" IS NOT NULL THEN {_q(c + "=")} || {_part(c)} END' for c in optional]
    return f"sha256(concat_ws({_q(SEPARATOR)}, {', '.join(parts)}))"


def _next_day(day: str) -> str:
    return str(date.fromisoformat(day) + timedelta(days=1))


class BronzeFloor:
    """Writes the floor's bronze for `days` from the sources under `root` into `out`; counts rows per table and day."""

    def __init__(self, root: Path, days: list[str], out: Path, con: duckdb.DuckDBPyConnection) -> None:
        self.root, self.days, self.out, self.con = root, days, out, con
        self.ingested_at = datetime.now(timezone.utc)
        self.rows: dict[str, dict[str, int]] = {}

    def write(self, spec: BronzeSpec, day: str, data: Data, optional: Sequence[str] = ()) -> None:
        """Stamp one partition's data (data columns and `_source_ref`) with the metadata and write it."""
        target = self.out / spec.name / f"ingestion_date={day}"
        target.mkdir(parents=True, exist_ok=True)
        self.con.register("bronze_data", data)
        columns = [c for c in data.schema.names if c != read.REF]
        select = ", ".join(f'"{c}"' for c in columns)
        stamped = (f"SELECT {select}, {_q(day)} AS _ingestion_date, TIMESTAMPTZ {_q(self.ingested_at.isoformat())} "
                   f"AS _ingested_at, {_q(spec.source)} AS _source_system, {read.REF}, {_q(RUN_ID)} AS _run_id, "
                   f"{record_hash_sql(spec.columns, optional)} AS _record_hash FROM bronze_data")
        copied = self.con.execute(f"COPY ({stamped}) TO {_q(str(target / 'part-00000.parquet'))} "
                                  f"(FORMAT parquet, COMPRESSION {CODEC})").fetchall()
        self.con.unregister("bronze_data")
        self.rows.setdefault(spec.name, {})[day] = int(copied[0][0])

    def landing(self, spec: BronzeSpec, day: str) -> list[Path]:
        """The day's delivered files of a file-drop or log table."""
        folder = self.root / "landing" / spec.source / spec.entity / f"ingestion_date={day}"
        return read.landing_files(folder, LANDING_SUFFIX[spec.fmt])

    def database(self, spec: BronzeSpec) -> None:
        """Each day's watermark window of the SQLite change table, streamed in batches."""
        db = self.root / "sources" / "db" / "source.sqlite"
        for i, day in enumerate(self.days):
            self.write(spec, day, read.db_day(db, spec.entity, spec.columns, day, _next_day(day), outside=i == 0))

    def api(self, spec: BronzeSpec) -> None:
        """Each day's window of the CRM API, from a server of the simulator started for the floor."""
        token = default_token()
        server = make_api_server(self.root, token=token)
        thread = threading.Thread(target=server.serve_forever, name="floor-crm-api", daemon=True)
        thread.start()
        try:
            host, port = server.server_address[:2]
            for day in self.days:
                self.write(spec, day, read.api_day(f"http://{host}:{port}", token, API_PATH, spec.columns, day, _next_day(day)))
        finally:
            server.shutdown()
            server.server_close()

    def files(self, spec: BronzeSpec) -> None:
        """Each day's CSV or JSON Lines drops; extra header columns count in the hash, as `_corrupt_record` does."""
        for day in self.days:
            paths = self.landing(spec, day)
            if spec.fmt == "jsonl":
                parts, extras = [read.jsonl_file(p, spec.columns) for p in paths], []
            else:
                read_csv = [read.csv_file(p, spec.columns) for p in paths]
                extras = sorted({e for _, found in read_csv for e in found})
                parts = [table for table, _ in read_csv]
            self.write(spec, day, _union(parts, [*spec.columns, *extras, read.CORRUPT, read.DEFECTS]),
                       [*extras, read.CORRUPT])

    def logs(self, spec: BronzeSpec) -> None:
        """Each day's gzip logs; a file that does not inflate whole is left out."""
        for day in self.days:
            lines = [t for t in (read.log_lines(p) for p in self.landing(spec, day)) if t is not None]
            empty = pa.table({"raw_line": pa.array([], pa.string()), read.REF: pa.array([], pa.string())})
            self.write(spec, day, read.parse_logs(self.con, pa.concat_tables(lines) if lines else empty))

    def run(self) -> dict[str, dict[str, int]]:
        """Every bronze table of the catalogue; rows written per table and day."""
        by_source = {"db": self.database, "api": self.api, "files": self.files, "logs": self.logs}
        for spec in BRONZE_SPECS:
            by_source[spec.source](spec)
        return self.rows


def _union(parts: list[pa.Table], columns: list[str]) -> pa.Table:
    """The files of one partition as one table of `columns` (a column a file lacks is NULL), with the ref."""
    names = [*columns, read.REF]
    aligned = [pa.table({n: t.column(n) if n in t.column_names else pa.nulls(t.num_rows, pa.string()) for n in names})
               for t in parts]
    return pa.concat_tables(aligned) if aligned else pa.table({n: pa.array([], pa.string()) for n in names})

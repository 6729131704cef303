"""File drops: part, partsupp, nation, region as CSV and supplier as JSON Lines, with drift and a late file."""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from lakehouse.sources.entities import FILE_ENTITIES, PART, PARTSUPP
from lakehouse.sources.faults import Entity, Faulter
from lakehouse.sources.manifest import Tally
from lakehouse.sources.plan import stamp
from lakehouse.sources.tpch import as_text, text_rows

UPDATE_RATE = 0.02
LATE_RATE = 0.01
DRIFT_COLUMN = "p_origin"
ORIGINS = ("DOMESTIC", "IMPORTED")


class DropWriter:
    """Writes one staged drop file: CSV (header, RFC 4180 quoting) or JSON Lines, rows of (values, updated_at)."""

    def __init__(self, target: Path, entity: Entity, fmt: str, drift: bool) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        self.file = target.open("w", newline="")
        self.entity, self.fmt, self.drift = entity, fmt, drift
        self.names = [*entity.columns, "updated_at", *([DRIFT_COLUMN] if drift else [])]
        self.csv = csv.writer(self.file, lineterminator="\n")
        if fmt == "csv":
            self.csv.writerow(self.names)

    def write(self, values: list[str | None], updated_at: str) -> None:
        """Append one row; values beyond the entity's columns (wrong column count) go last."""
        if self.fmt == "jsonl":
            self.file.write(json.dumps(dict(zip(self.names, [*values, updated_at]))) + "\n")
            return
        width = len(self.entity.columns)
        tail = [ORIGINS[len(values[0] or "") % 2]] if self.drift else []
        self.csv.writerow([*values[:width], updated_at, *tail, *values[width:]])

    def close(self) -> None:
        """Flush and close the file."""
        self.file.close()


def _rows(con: duckdb.DuckDBPyConnection, tpch_dir: Path, entity: Entity, table: str, keep: set[int] | None) -> Iterator[list]:
    """Stream a TPC-H table as raw strings in key order, only the row numbers in `keep` when given."""
    query = f"SELECT {as_text(list(entity.columns))} FROM read_parquet('{tpch_dir / f'{table}.parquet'}')"
    i = 0
    for batch in text_rows(con, query):
        for row in batch:
            if keep is None or i in keep:
                yield row
            i += 1


def write_files(con: duckdb.DuckDBPyConnection, tpch_dir: Path, staging: Path, days: list[date], sizes: dict[str, int],
                faulters: dict[str, Faulter], rng: random.Random, tally: Tally) -> dict[str, Any]:
    """Stage a day-1 snapshot and later updates of every file entity; return the late files and the drift."""
    late_day = rng.randrange(1, len(days)) if len(days) > 1 else None
    late_files: list[dict[str, Any]] = []
    for name, (entity, table, fmt) in FILE_ENTITIES.items():
        total = sizes[table]
        for i, day in enumerate(days):
            keep = None if i == 0 else set(rng.sample(range(total), max(1, round(total * UPDATE_RATE))))
            n = total if keep is None else len(keep)
            rel = f"files/{name}/ingestion_date={day}/{name}-{day}-01.{fmt}"
            writer = DropWriter(staging / f"arrival={day}" / rel, entity, fmt, entity is PART and i >= 1)
            for e in faulters[entity.name].emit(_rows(con, tpch_dir, entity, table, keep), n, day):
                tally.add(entity.name, str(day), e.kind, e.rule)
                writer.write(e.values, e.updated_at)
            writer.close()
        if entity is PARTSUPP and late_day is not None:
            late_files.append(_late_file(con, tpch_dir, staging, total, days, late_day, rng, tally))
    drift = {"table": PART.name, "column": DRIFT_COLUMN, "from_day": str(days[1])} if len(days) > 1 else None
    return {"late_files": late_files, "schema_drift": drift}


def _late_file(con: duckdb.DuckDBPyConnection, tpch_dir: Path, staging: Path, total: int, days: list[date],
               arrival: int, rng: random.Random, tally: Tally) -> dict[str, Any]:
    """True partsupp versions for day k-1, stamped late that day, arriving on day k."""
    day = days[arrival - 1]
    keep = set(rng.sample(range(total), max(1, min(3000, round(total * LATE_RATE)))))
    rel = f"files/partsupp/ingestion_date={day}/partsupp-{day}-02.csv"
    writer = DropWriter(staging / f"arrival={days[arrival]}" / rel, PARTSUPP, "csv", False)
    for n, row in enumerate(_rows(con, tpch_dir, PARTSUPP, "partsupp", keep)):
        writer.write(row, stamp(day, 82_800 + n))
        tally.add(PARTSUPP.name, str(day), "clean")
    writer.close()
    return {"path": rel, "arrival_day": str(days[arrival]), "ingestion_date": str(day), "rows": len(keep)}


def upload_landing(root: Path, s3_client: Any, bucket: str, prefix: str = "", kms_key_id: str | None = None) -> list[str]:
    """Upload every file under `<root>/landing` to s3://bucket/prefix/<landing-relative path>; return the keys."""
    landing = Path(root) / "landing"
    extra: dict[str, str] = {}
    if kms_key_id:
        extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id}
    keys = []
    for path in sorted(p for p in landing.rglob("*") if p.is_file()):
        key = "/".join(x for x in (prefix.strip("/"), path.relative_to(landing).as_posix()) if x)
        with path.open("rb") as body:
            s3_client.put_object(Bucket=bucket, Key=key, Body=body, **extra)
        keys.append(key)
    return keys

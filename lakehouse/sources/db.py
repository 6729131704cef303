"""The database source: append-only change tables `orders` and `lineitem` (TEXT columns plus `updated_at`)."""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from lakehouse.sources.entities import LINEITEM, ORDERS
from lakehouse.sources.faults import Entity, Faulter
from lakehouse.sources.manifest import Tally
from lakehouse.sources.tpch import as_text, text_rows


class ChangeTables:
    """A connection to SQLite or PostgreSQL that (re)creates and bulk-appends the change tables."""

    def __init__(self, root: Path, db_url: str | None) -> None:
        self.postgres = bool(db_url) and db_url.startswith(("postgresql://", "postgres://"))
        if self.postgres:
            import psycopg2

            self.conn: Any = psycopg2.connect(db_url)
            self.description = {"kind": "postgresql"}
        else:
            if db_url and not db_url.startswith("sqlite:///"):
                raise ValueError(f"unsupported db_url {db_url.split('@')[-1]!r}: use postgresql://... or sqlite:///path")
            path = Path(db_url.removeprefix("sqlite:///")) if db_url else root / "sources" / "db" / "source.sqlite"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.unlink(missing_ok=True)
            self.conn = sqlite3.connect(path)
            self.conn.execute("PRAGMA journal_mode=OFF")
            self.conn.execute("PRAGMA synchronous=OFF")
            self.description = {"kind": "sqlite", "path": str(path.relative_to(root)) if path.is_relative_to(root) else str(path)}

    def create(self, table: str, columns: tuple[str, ...]) -> None:
        """Drop and create `table` with every column TEXT plus `updated_at TEXT`."""
        cur = self.conn.cursor()
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TABLE {table} ({', '.join(f'{c} TEXT' for c in (*columns, 'updated_at'))})")

    def append(self, table: str, columns: tuple[str, ...], rows: list[list[str | None]]) -> None:
        """Append rows (values then updated_at) in the given order."""
        if not rows:
            return
        if self.postgres:
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows(rows)
            buf.seek(0)
            cols = ", ".join((*columns, "updated_at"))
            self.conn.cursor().copy_expert(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv)", buf)
        else:
            marks = ", ".join("?" * (len(columns) + 1))
            self.conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)

    def finish(self, tables: list[str]) -> None:
        """Index `updated_at` for watermark extraction, commit and close."""
        cur = self.conn.cursor()
        for table in tables:
            cur.execute(f"CREATE INDEX {table}_updated_at ON {table} (updated_at)")
        self.conn.commit()
        self.conn.close()


def _day_query(entity: Entity, tpch_dir: Path) -> str:
    """The day's slice of orders or lineitems, in order-date order."""
    if entity is ORDERS:
        return (f"SELECT {as_text(list(entity.columns), 'o')} FROM read_parquet('{tpch_dir / 'orders.parquet'}') o "
                "JOIN order_day d USING (o_orderkey) WHERE d.day = ? ORDER BY d.pos")
    return (f"SELECT {as_text(list(entity.columns), 'l')} FROM read_parquet('{tpch_dir / 'lineitem.parquet'}') l "
            "JOIN order_day d ON l.l_orderkey = d.o_orderkey WHERE d.day = ? ORDER BY d.pos, l.l_linenumber")


def write_db(con: duckdb.DuckDBPyConnection, tpch_dir: Path, root: Path, db_url: str | None, days: list[date],
             counts: dict[int, tuple[int, int]], faulters: dict[str, Faulter], tally: Tally,
             advance: Callable[[int], None]) -> dict[str, str]:
    """Write every day's orders and lineitems with their faults; return how to reach the database."""
    db = ChangeTables(root, db_url)
    for entity in (ORDERS, LINEITEM):
        db.create(entity.name.split("__")[1], entity.columns)
    for i, day in enumerate(days):
        for entity, n in ((ORDERS, counts.get(i, (0, 0))[0]), (LINEITEM, counts.get(i, (0, 0))[1])):
            table = entity.name.split("__")[1]
            rows = (r for batch in text_rows(con, _day_query(entity, tpch_dir), [i]) for r in batch)
            out: list[list[str | None]] = []
            for e in faulters[entity.name].emit(rows, n, day):
                tally.add(entity.name, str(day), e.kind, e.rule)
                out.append([*e.values, e.updated_at])
                if len(out) >= 20_000:
                    db.append(table, entity.columns, out)
                    advance(len(out))
                    out = []
            db.append(table, entity.columns, out)
            advance(len(out))
    db.finish(["orders", "lineitem"])
    return db.description

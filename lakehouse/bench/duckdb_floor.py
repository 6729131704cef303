"""DuckDB SQL floor: the same sources → bronze → silver → gold work as plain DuckDB SQL, in one pass over all days.

Its bronze part (`bronze_floor.py`) reads the simulated sources the cheapest way into the pipeline's bronze layout.
Its silver part reads that bronze and standardizes with the rules declared in `glue_scripts/common/specs.py` (same
regexes and date formats as `silver_standardize`), drops exact duplicates per batch by `_record_hash`, quarantines
rule breakers, holds rows whose foreign keys do not resolve and keeps the latest valid version per key by
(`_updated_at`, `_ingestion_date`, `_record_hash`); its gold part builds the six marts. Everything is written as
Parquet in the same layout with the same codec. It computes the final state of all days in one pass, the cheapest
way to the same tables, so it is a floor for the pipeline, not a second copy of it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from glue_scripts.common.specs import DATE_FORMATS, SILVER_SPECS, SILVER_TABLES, WEB_EVENTS, SilverSpec
from glue_scripts.common.specs import Column as SpecColumn
from glue_scripts.transforms.silver_standardize import (
    LINEAGE, SILVER_METADATA, VERSION_FORMAT, is_numeric, number_regex, pattern_regex, raw_columns,
)
from glue_scripts.transforms.silver_web import BOT_REGEX, LOG_RAW, TS_REGEX, WEB_COLUMNS
from lakehouse.bench.bronze_floor import CODEC, BronzeFloor
from lakehouse.bench.costs import FloorCost, measured
from lakehouse.bench.floor_marts import MART_SQL

STRFTIME = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}


def strptime_format(spark_format: str) -> str:
    """A Spark datetime pattern (yyyy, MM, dd, HH, mm, ss and literals) as a DuckDB strptime format."""
    out = spark_format
    for token, directive in STRFTIME.items():
        out = out.replace(token, directive)
    return out


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _parse_datetime(value: str, formats: tuple[str, ...]) -> str:
    parts = [f"CASE WHEN regexp_matches({value}, {_q(pattern_regex(f))}) THEN try_strptime({value}, {_q(strptime_format(f))}) END"
             for f in formats]
    return f"coalesce({', '.join(parts)})"


def _typed(column: SpecColumn) -> tuple[str, str | None]:
    """(typed SQL, unparseable-flag SQL or None) for one spec column read from the raw string column."""
    raw = f'"{column.name}"'
    if column.type == "string":
        value = f"trim({raw})" if column.trim else raw
        return (f"upper({value})" if column.upper else value), None
    value = f"trim({raw})"
    if is_numeric(column.type):
        typed = f"CASE WHEN regexp_matches({value}, {_q(number_regex(column.type))}) THEN try_cast({value} AS {column.type.upper()}) END"
    elif column.type == "date":
        typed = f"CAST({_parse_datetime(value, DATE_FORMATS)} AS DATE)"
    else:
        raise ValueError(f"unsupported silver type {column.type!r} for {column.name}")
    return typed, f"coalesce({value} IS NOT NULL AND {value} <> '' AND ({typed}) IS NULL, false)"


def standardize_sql(spec: SilverSpec, source: str) -> str:
    """Bronze rows of `source` → typed columns, `_updated_at`, lineage, the raw strings, sorted `_rules`, `_dup`."""
    typed: list[str] = []
    rules: dict[str, list[str]] = {"null_key": [], "unparseable_date": [], "unparseable_number": [], "negative_value": []}
    for column in spec.columns:
        value, bad = _typed(column)
        typed.append(f'{value} AS "{column.name}"')
        if bad is not None:
            rules["unparseable_date" if column.type == "date" else "unparseable_number"].append(bad)
        if column.non_negative:
            rules["negative_value"].append(f"coalesce(({value}) < 0, false)")
        if column.name in spec.primary_key:
            key = f'trim("{column.name}")'
            rules["null_key"].append(f"NOT coalesce({key} IS NOT NULL AND {key} <> '', false)")
    version_raw = f'trim("{spec.version_column}")'
    version = f"CAST({_parse_datetime(version_raw, (VERSION_FORMAT,))} AS TIMESTAMP)"
    rules["unparseable_date"].append(f"({version}) IS NULL")
    flags = ", ".join(f"CASE WHEN {' OR '.join(conds)} THEN '{rule}' END" for rule, conds in rules.items() if conds)
    rule_list = f"list_sort(list_distinct(list_filter([{flags}], lambda r: r IS NOT NULL)))"
    raws = [f'"{c}"' for c in (*raw_columns(spec), "_corrupt_record")]
    first = f"row_number() OVER (PARTITION BY _ingestion_date, _record_hash ORDER BY _source_ref, concat_ws('|', {', '.join(raws)}))"
    return f"""SELECT {', '.join(typed)}, {version} AS _updated_at, {', '.join(LINEAGE)}, {', '.join(raws)},
        CASE WHEN _corrupt_record IS NOT NULL THEN ['wrong_column_count'] ELSE {rule_list} END AS _rules,
        {first} > 1 AS _dup
    FROM {source}"""


def _fk_ok(spec: SilverSpec) -> str:
    checks = []
    for fk in spec.foreign_keys:
        nulls = " OR ".join(f'b."{c}" IS NULL' for c in fk.columns)
        match = " AND ".join(f'r."{r}" = b."{c}"' for c, r in zip(fk.columns, fk.ref_columns))
        checks.append(f"({nulls} OR EXISTS (SELECT 1 FROM silver_{fk.table} r WHERE {match}))")
    return " AND ".join(checks) or "true"


class DuckDBFloor:
    """Runs the floor's silver and gold over the given days of `bronze_root` into `out/<layer>/<table>`."""

    def __init__(self, bronze_root: Path, days: list[str], out: Path, threads: int, memory_limit: str = "4GB") -> None:
        self.bronze_root = bronze_root
        self.days = days
        self.out = out
        shutil.rmtree(out, ignore_errors=True)
        (out / "tmp").mkdir(parents=True)
        self.con = duckdb.connect()
        self.con.execute(f"SET threads = {threads}; SET memory_limit = '{memory_limit}'; SET enable_progress_bar = false; "
                         f"SET temp_directory = '{out / 'tmp'}'; SET preserve_insertion_order = false; SET TimeZone = 'UTC'")

    def _bronze(self, table: str, columns: tuple[str, ...]) -> str:
        """The table's bronze partitions of the floor's days, every wanted column as VARCHAR (NULL where absent)."""
        glob = f"{self.bronze_root / table}/ingestion_date=*/*.parquet"
        source = f"read_parquet({_q(glob)}, hive_partitioning = true, union_by_name = true)"
        present = {row[0] for row in self.con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        picks = [f'CAST("{c}" AS VARCHAR) AS "{c}"' if c in present else f'CAST(NULL AS VARCHAR) AS "{c}"' for c in columns]
        days = ", ".join(_q(d) for d in self.days)
        return f"(SELECT {', '.join(picks)} FROM {source} WHERE CAST(ingestion_date AS VARCHAR) IN ({days}))"

    def _copy(self, query: str, layer: str, table: str, partitioned: bool = True) -> None:
        target = self.out / layer / table
        target.parent.mkdir(parents=True, exist_ok=True)
        if partitioned:
            self.con.execute(f"COPY (SELECT *, _ingestion_date AS ingestion_date FROM ({query})) TO {_q(str(target))} "
                             f"(FORMAT parquet, COMPRESSION {CODEC}, PARTITION_BY (ingestion_date), OVERWRITE_OR_IGNORE)")
        else:
            target.mkdir(parents=True, exist_ok=True)
            self.con.execute(f"COPY ({query}) TO {_q(str(target / 'part-00000.parquet'))} (FORMAT parquet, COMPRESSION {CODEC})")

    def silver_table(self, spec: SilverSpec) -> None:
        """Standardize, drop batch duplicates, quarantine and hold, keep the latest valid version per key; write both."""
        lineage = tuple(LINEAGE)
        columns = (*raw_columns(spec), "_corrupt_record", *lineage)
        source = self._bronze(spec.bronze, columns)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE std AS SELECT * FROM ({standardize_sql(spec, source)}) WHERE NOT _dup")
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE checked AS SELECT b.*, {_fk_ok(spec)} AS _fk_ok FROM std b WHERE len(b._rules) = 0")
        pk = ", ".join(f'"{c}"' for c in spec.primary_key)
        silver_columns = ", ".join(f'"{c}"' for c in (*spec.column_names, *SILVER_METADATA))
        self.con.execute(f"""CREATE OR REPLACE TEMP TABLE silver_{spec.name} AS
            SELECT {silver_columns} FROM (
                SELECT *, 'duckdb-floor' AS _run_id FROM checked WHERE _fk_ok
                QUALIFY row_number() OVER (PARTITION BY {pk}, _record_hash ORDER BY _ingestion_date, _source_ref) = 1)
            QUALIFY row_number() OVER (PARTITION BY {pk}
                ORDER BY _updated_at DESC NULLS LAST, _ingestion_date DESC NULLS LAST, _record_hash DESC NULLS LAST) = 1""")
        raws = ", ".join(f'"{c}"' for c in (*raw_columns(spec), "_corrupt_record"))
        quarantine = f"""SELECT {raws}, _rules, 'rejected' AS _status, {', '.join(lineage)}, 'duckdb-floor' AS _run_id
                FROM std WHERE len(_rules) > 0
            UNION ALL
            SELECT {raws}, ['unknown_foreign_key'] AS _rules, 'held' AS _status, {', '.join(lineage)}, 'duckdb-floor' AS _run_id
                FROM checked WHERE NOT _fk_ok"""
        self._copy(f"SELECT * FROM silver_{spec.name}", "silver", spec.name)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE quarantine_{spec.name} AS {quarantine}")
        self._copy(f"SELECT * FROM quarantine_{spec.name}", "quarantine", spec.name)

    def web_events(self) -> None:
        """Parse the log lines with the same rules as silver_web; kept lines to silver, the rest to quarantine."""
        source = self._bronze(WEB_EVENTS.bronze, (*LOG_RAW, "_parse_error", *LINEAGE))
        ts = f"CASE WHEN regexp_matches(trim(ts), {_q(TS_REGEX)}) THEN CAST(try_strptime(trim(ts), '%d/%b/%Y:%H:%M:%S %z') AS TIMESTAMP) END"
        status_ok, bytes_ok = "regexp_matches(status, '^[0-9]{1,9}$')", "regexp_matches(bytes, '^[0-9]{1,18}$')"

        def key(segment: str, param: str) -> str:
            in_path = f"regexp_extract(path, '/{segment}/([0-9]{{1,18}})(?:[/?#;]|$)', 1)"
            in_query = f"regexp_extract(path, '[?&]{param}=([0-9]{{1,18}})(?:[&#;]|$)', 1)"
            return f"CAST(CASE WHEN {in_path} <> '' THEN {in_path} WHEN {in_query} <> '' THEN {in_query} END AS BIGINT)"

        bad_number = f"NOT coalesce({status_ok} AND ({bytes_ok} OR bytes = '-'), false)"
        self.con.execute(f"""CREATE OR REPLACE TEMP TABLE events AS SELECT *,
            CASE WHEN coalesce(TRY_CAST(_parse_error AS BOOLEAN), false) THEN ['malformed_line']
                 ELSE list_sort(list_filter([CASE WHEN _ts IS NULL THEN 'unparseable_date' END,
                                             CASE WHEN {bad_number} THEN 'unparseable_number' END], lambda r: r IS NOT NULL))
            END AS _rules
            FROM (SELECT *, {ts} AS _ts FROM {source})""")
        typed = {
            "ts": "_ts", "client": "client", "method": "method", "path": "path",
            "status": f"CASE WHEN {status_ok} THEN CAST(status AS INTEGER) END",
            "bytes": f"CASE WHEN {bytes_ok} THEN CAST(bytes AS BIGINT) END", "referrer": "referrer", "user_agent": "user_agent",
            "customer_key": key("customers", "customer"), "part_key": key("parts", "part"),
            "is_bot": f"coalesce(regexp_matches(user_agent, {_q(BOT_REGEX)}), false)",
        }
        columns = ", ".join(f"{typed[c]} AS {c}" for c in WEB_COLUMNS)
        self.con.execute(f"""CREATE OR REPLACE TEMP TABLE silver_web_events AS
            SELECT {columns}, {', '.join(LINEAGE)}, 'duckdb-floor' AS _run_id FROM events WHERE len(_rules) = 0""")
        self._copy("SELECT * FROM silver_web_events", "silver", "web_events")
        self.con.execute(f"""CREATE OR REPLACE TEMP TABLE quarantine_web_events AS
            SELECT {', '.join(LOG_RAW)}, _rules, 'rejected' AS _status, {', '.join(LINEAGE)}, 'duckdb-floor' AS _run_id
            FROM events WHERE len(_rules) > 0""")
        self._copy("SELECT * FROM quarantine_web_events", "quarantine", "web_events")

    def silver(self) -> None:
        """Every silver table and web_events, with their quarantine."""
        for spec in SILVER_SPECS:
            self.silver_table(spec)
        self.web_events()

    def gold(self) -> None:
        """Build and write every mart from the floor's silver tables."""
        for mart, sql in MART_SQL.items():
            self._copy(sql, "gold", mart, partitioned=False)

    def counts(self, layer: str) -> dict[str, int]:
        """Rows per table the floor holds in `layer` (silver or quarantine)."""
        names = [t.name for t in SILVER_TABLES]
        return {n: int(self.con.execute(f"SELECT count(*) FROM {layer}_{n}").fetchone()[0]) for n in names}


@dataclass(frozen=True)
class DuckDBFloorResult:
    """What the DuckDB floor cost per part, and the rows it wrote: bronze per table and day, silver and quarantine
    per table."""

    cost: FloorCost
    bronze_rows: dict[str, dict[str, int]]
    silver_rows: dict[str, int]
    quarantine_rows: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        """The report's `floors.duckdb` section."""
        return {**self.cost.as_dict(), "bronze_rows": self.bronze_rows, "silver_rows": self.silver_rows,
                "quarantine_rows": self.quarantine_rows}


def run_duckdb_floor(root: Path, days: list[str], out: Path, threads: int) -> DuckDBFloorResult:
    """Run the whole floor on the sources under `root` (DuckDB runs in this process, so its threads' CPU counts)."""
    floor = DuckDBFloor(out / "bronze", days, out, threads)
    bronze_rows, bronze = measured(lambda: BronzeFloor(root, days, out / "bronze", floor.con).run())
    _, silver = measured(floor.silver)
    _, gold = measured(floor.gold)
    result = DuckDBFloorResult(FloorCost(bronze, silver, gold), bronze_rows, floor.counts("silver"), floor.counts("quarantine"))
    floor.con.close()
    shutil.rmtree(out / "tmp", ignore_errors=True)
    return result

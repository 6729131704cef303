"""A small reference reader: the documented standardization and latest-valid-version rule in plain duckdb."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import duckdb
import pandas as pd

KEY, INT, MONEY, DATE, CODE, NAME, TEXT = "key", "int", "money", "date", "code", "name", "text"
TABLES: dict[str, dict] = {
    "region": {"pk": ["r_regionkey"], "cols": {"r_regionkey": KEY, "r_name": CODE, "r_comment": TEXT}},
    "nation": {"pk": ["n_nationkey"], "fk": {"n_regionkey": ("region", "r_regionkey")},
               "cols": {"n_nationkey": KEY, "n_name": CODE, "n_regionkey": KEY, "n_comment": TEXT}},
    "supplier": {"pk": ["s_suppkey"], "fk": {"s_nationkey": ("nation", "n_nationkey")},
                 "cols": {"s_suppkey": KEY, "s_name": NAME, "s_address": TEXT, "s_nationkey": KEY, "s_phone": NAME,
                          "s_acctbal": MONEY, "s_comment": TEXT}},
    "part": {"pk": ["p_partkey"], "nonneg": ["p_size", "p_retailprice"],
             "cols": {"p_partkey": KEY, "p_name": NAME, "p_mfgr": NAME, "p_brand": NAME, "p_type": CODE, "p_size": INT,
                      "p_container": CODE, "p_retailprice": MONEY, "p_comment": TEXT}},
    "partsupp": {"pk": ["ps_partkey", "ps_suppkey"], "nonneg": ["ps_availqty", "ps_supplycost"],
                 "fk": {"ps_partkey": ("part", "p_partkey"), "ps_suppkey": ("supplier", "s_suppkey")},
                 "cols": {"ps_partkey": KEY, "ps_suppkey": KEY, "ps_availqty": INT, "ps_supplycost": MONEY, "ps_comment": TEXT}},
    "customer": {"pk": ["c_custkey"], "fk": {"c_nationkey": ("nation", "n_nationkey")},
                 "cols": {"c_custkey": KEY, "c_name": NAME, "c_address": TEXT, "c_nationkey": KEY, "c_phone": NAME,
                          "c_acctbal": MONEY, "c_mktsegment": CODE, "c_comment": TEXT}},
    "orders": {"pk": ["o_orderkey"], "nonneg": ["o_totalprice"], "fk": {"o_custkey": ("customer", "c_custkey")},
               "cols": {"o_orderkey": KEY, "o_custkey": KEY, "o_orderstatus": CODE, "o_totalprice": MONEY,
                        "o_orderdate": DATE, "o_orderpriority": CODE, "o_clerk": NAME, "o_shippriority": INT,
                        "o_comment": TEXT}},
    "lineitem": {"pk": ["l_orderkey", "l_linenumber"], "nonneg": ["l_quantity", "l_extendedprice", "l_discount", "l_tax"],
                 "fk": {"l_orderkey": ("orders", "o_orderkey"), "l_partkey": ("part", "p_partkey")},
                 "cols": {"l_orderkey": KEY, "l_partkey": KEY, "l_suppkey": KEY, "l_linenumber": INT, "l_quantity": MONEY,
                          "l_extendedprice": MONEY, "l_discount": MONEY, "l_tax": MONEY, "l_returnflag": CODE,
                          "l_linestatus": CODE, "l_shipdate": DATE, "l_commitdate": DATE, "l_receiptdate": DATE,
                          "l_shipinstruct": CODE, "l_shipmode": CODE, "l_comment": TEXT}},
}
SQL_TYPE = {KEY: "BIGINT", INT: "INTEGER", MONEY: "DECIMAL(15,2)"}


def raw_db(root: Path, table: str) -> pd.DataFrame:
    """Every row of a database change table, as strings."""
    with sqlite3.connect(root / "sources" / "db" / "source.sqlite") as conn:
        return pd.read_sql_query(f"SELECT * FROM {table}", conn)


def raw_api(root: Path) -> pd.DataFrame:
    """Every record in the CRM store, numbers kept as their JSON text."""
    lines = (root / "sources" / "api" / "customers.jsonl").read_text().splitlines()
    return pd.DataFrame([json.loads(x, parse_float=str, parse_int=str) for x in lines], dtype=object)


def raw_files(root: Path, entity: str) -> pd.DataFrame:
    """Every delivered row of a file entity with the right column count (extra drift columns dropped)."""
    rows: list[dict] = []
    for path in sorted((root / "landing" / "files" / entity).rglob("*.*")):
        if path.suffix == ".jsonl":
            rows += [json.loads(x) for x in path.read_text().splitlines()]
            continue
        with path.open(newline="") as f:
            header, *body = list(csv.reader(f))
        rows += [dict(zip(header, r)) for r in body if len(r) == len(header)]
    return pd.DataFrame(rows, dtype=object)


def _expr(column: str, kind: str) -> str:
    c = f'"{column}"'
    if kind == TEXT:
        return c
    if kind == CODE:
        return f"upper(trim({c}))"
    if kind == NAME:
        return f"trim({c})"
    if kind == DATE:
        return (f"coalesce(try_strptime(trim({c}), '%Y-%m-%d'), try_strptime(trim({c}), '%m/%d/%Y'))::DATE")
    return f"TRY_CAST(trim({c}) AS {SQL_TYPE[kind]})"


def silver(con: duckdb.DuckDBPyConnection, table: str, raw: pd.DataFrame, parents: dict[str, str]) -> str:
    """Create `silver_<table>`: valid rows only, the greatest updated_at per primary key; return its name."""
    spec = TABLES[table]
    con.register(f"raw_{table}", raw)
    typed = ", ".join(f"{_expr(c, k)} AS {c}" for c, k in spec["cols"].items())
    valid = [f"{c} IS NOT NULL" for c in spec["cols"] if spec["cols"][c] != TEXT]
    valid += [f"{c} >= 0" for c in spec.get("nonneg", [])]
    valid += [f"{c} IN (SELECT {ref} FROM read_parquet('{parents[p]}'))" for c, (p, ref) in spec.get("fk", {}).items()]
    pk = ", ".join(spec["pk"])
    con.execute(
        f"""CREATE OR REPLACE TABLE silver_{table} AS SELECT * EXCLUDE (updated_at, rn) FROM (
          SELECT *, row_number() OVER (PARTITION BY {pk} ORDER BY updated_at DESC) AS rn FROM (
            SELECT {typed}, updated_at FROM raw_{table}) WHERE {' AND '.join(valid)}) WHERE rn = 1"""
    )
    return f"silver_{table}"


def differences(con: duckdb.DuckDBPyConnection, table: str, tpch: Path) -> tuple[int, int]:
    """(rows in silver not in TPC-H, rows in TPC-H not in silver)."""
    truth = f"read_parquet('{tpch / f'{table}.parquet'}')"
    extra = con.execute(f"SELECT count(*) FROM (SELECT * FROM silver_{table} EXCEPT ALL SELECT * FROM {truth})").fetchall()[0][0]
    missing = con.execute(f"SELECT count(*) FROM (SELECT * FROM {truth} EXCEPT ALL SELECT * FROM silver_{table})").fetchall()[0][0]
    return extra, missing


def rule_failures(con: duckdb.DuckDBPyConnection, table: str, raw: pd.DataFrame, parents: dict[str, str]) -> tuple[dict[str, int], int]:
    """Rows failing each rule, and how many rows fail more than one rule."""
    spec = TABLES[table]
    con.register(f"rules_{table}", raw)
    checks: dict[str, list[str]] = {"null_key": [], "unparseable_date": [], "unparseable_number": [],
                                    "negative_value": [], "unknown_foreign_key": []}
    checks["null_key"] = [f"coalesce(trim(\"{c}\"), '') = ''" for c in spec["pk"]]
    for c, kind in spec["cols"].items():
        present = f"coalesce(trim(\"{c}\"), '') <> ''"
        if kind == DATE:
            checks["unparseable_date"].append(f"({present} AND {_expr(c, kind)} IS NULL)")
        elif kind in SQL_TYPE:
            checks["unparseable_number"].append(f"({present} AND {_expr(c, kind)} IS NULL)")
    checks["negative_value"] = [f"coalesce({_expr(c, spec['cols'][c])} < 0, false)" for c in spec.get("nonneg", [])]
    checks["unknown_foreign_key"] = [
        f"({_expr(c, KEY)} IS NOT NULL AND {_expr(c, KEY)} NOT IN (SELECT {ref} FROM read_parquet('{parents[p]}')))"
        for c, (p, ref) in spec.get("fk", {}).items()
    ]
    flags = ", ".join(f"({' OR '.join(v) if v else 'false'})::INT AS {k}" for k, v in checks.items())
    row = con.execute(
        f"SELECT {', '.join(f'sum({k})' for k in checks)}, count_if({' + '.join(checks)} > 1) "
        f"FROM (SELECT {flags} FROM rules_{table})"
    ).fetchall()[0]
    return {k: int(v or 0) for k, v in zip(checks, row[:-1])}, int(row[-1])

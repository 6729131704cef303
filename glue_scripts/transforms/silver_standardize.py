"""Silver standardization as canonical SQL: one bronze row (raw strings) → typed spec columns, raw values, rules.

Every builder takes relation names and returns SQL (DuckDB dialect, rendered for Spark by the engine); nothing
here reads or writes. Regexes are anchored with `^` and `\\z` (Java's `$` also matches before a final newline,
RE2's does not), and dates and times are cast only from an ISO string the regex has shaped, so a bad value is
NULL on both engines rather than an error or a guess.
"""

from __future__ import annotations

import re

from glue_scripts.common.records import DEFECTS
from glue_scripts.common.specs import DATE_FORMATS, SilverSpec
from glue_scripts.common.specs import Column as SpecColumn
from glue_scripts.engine.dialect import Columns, literal, sql_type

CORRUPT = "_corrupt_record"
RAW = "_raw_"
RULES_COL = "_rules"
VERSION = "_updated_at"
VERSION_FORMAT = "yyyy-MM-dd HH:mm:ss"
SILVER_METADATA: tuple[str, ...] = ("_updated_at", "_ingestion_date", "_source_ref", "_record_hash", "_run_id")
LINEAGE: tuple[str, ...] = ("_ingestion_date", "_source_ref", "_record_hash")
EMPTY_RULES = "CAST([] AS VARCHAR[])"

_TOKENS = {"yyyy": "[0-9]{4}", "MM": "(0[1-9]|1[0-2])", "dd": "(0[1-9]|[12][0-9]|3[01])", "HH": "([01][0-9]|2[0-3])",
           "mm": "[0-5][0-9]", "ss": "[0-5][0-9]"}
_ISO = {"date": ("yyyy", "-", "MM", "-", "dd"), "timestamp": ("yyyy", "-", "MM", "-", "dd", " ", "HH", ":", "mm", ":", "ss")}
_INTEGER_DIGITS = {"int": 9, "bigint": 18}
_DECIMAL = re.compile(r"decimal\((\d+),\s*(\d+)\)")


def pattern_regex(fmt: str) -> str:
    """An anchored regex (`^`…`\\z`) for a datetime pattern built from yyyy/MM/dd/HH/mm/ss and literals."""
    parts = re.split(r"(yyyy|MM|dd|HH|mm|ss)", fmt)
    return "^" + "".join(_TOKENS.get(p, re.escape(p)) for p in parts) + r"\z"


def number_regex(type_: str) -> str:
    """An anchored regex of the strings that cast to `type_` exactly: no overflow, no rounding, no garbage."""
    if type_ in _INTEGER_DIGITS:
        return rf"^[+-]?[0-9]{{1,{_INTEGER_DIGITS[type_]}}}\z"
    match = _DECIMAL.fullmatch(type_)
    if not match:
        raise ValueError(f"not a numeric silver type: {type_}")
    precision, scale = int(match.group(1)), int(match.group(2))
    return rf"^[+-]?([0-9]{{1,{precision - scale}}}(\.[0-9]{{0,{scale}}})?|\.[0-9]{{1,{scale}}})\z"


def is_numeric(type_: str) -> bool:
    """True for the integer and decimal silver types."""
    return type_ in _INTEGER_DIGITS or bool(_DECIMAL.fullmatch(type_))


def raw_columns(spec: SilverSpec) -> tuple[str, ...]:
    """The bronze source columns silver reads: the TPC-H columns, then the version column."""
    return (*spec.column_names, spec.version_column)


def bronze_inputs(spec: SilverSpec) -> tuple[str, ...]:
    """Every bronze column standardization may read: raw and drifted names, `_corrupt_record`, `_defects`, lineage."""
    return (*raw_columns(spec), *spec.drift_renames, CORRUPT, DEFECTS, *LINEAGE)


def conform_sql(spec: SilverSpec, source: str, present: set[str], keep: tuple[str, ...] = ()) -> str:
    """Raw spec columns as strings (a drifted name renamed, NULL where missing), `_corrupt_record`, `_defects`,
    lineage, then `keep`; of `source`, whose columns are `present`."""
    renamed = {new: old for old, new in spec.drift_renames.items() if old in present and new not in present}

    def pick(name: str) -> str:
        origin = renamed.get(name, name)
        return f"CAST({origin} AS VARCHAR) AS {name}" if origin in present else f"CAST(NULL AS VARCHAR) AS {name}"

    return f"SELECT {', '.join([*(pick(c) for c in (*raw_columns(spec), CORRUPT, DEFECTS, *LINEAGE)), *keep])} FROM {source}"


def _datetime(value: str, fmt: str, kind: str) -> str:
    """`value` (trimmed) in the fixed-width `fmt`, cast through its ISO form; NULL unless it matches exactly."""
    at, pos = {}, 1
    for part in re.split(r"(yyyy|MM|dd|HH|mm|ss)", fmt):
        at[part] = pos
        pos += len(part)
    iso = " || ".join(f"substr({value}, {at[p]}, {len(p)})" if p in at and p in _TOKENS else literal(p)
                      for p in _ISO[kind])
    target = "DATE" if kind == "date" else "TIMESTAMPTZ"
    return f"CASE WHEN regexp_matches({value}, {literal(pattern_regex(fmt))}) THEN TRY_CAST({iso} AS {target}) END"


def parse(column: SpecColumn, raw: str) -> str:
    """The typed value of one spec column from its raw string; an empty or unparseable value is NULL."""
    if column.type == "string":
        value = f"trim({raw})" if column.trim else raw
        return f"upper({value})" if column.upper else value
    value = f"trim({raw})"
    if is_numeric(column.type):
        pattern = literal(number_regex(column.type))
        return f"CASE WHEN regexp_matches({value}, {pattern}) THEN CAST({value} AS {sql_type(column.type)}) END"
    if column.type == "date":
        return "coalesce(" + ", ".join(_datetime(value, f, "date") for f in DATE_FORMATS) + ")"
    raise ValueError(f"unsupported silver type {column.type!r} for {column.name}")


def version_sql(raw: str) -> str:
    """The version column as a UTC timestamp, NULL when missing or unparseable."""
    return _datetime(f"trim({raw})", VERSION_FORMAT, "timestamp")


def rule_set(rules: list[str]) -> str:
    """A sorted array of the distinct non-null rule names among the `rules` expressions."""
    return f"list_sort(list_distinct(list_filter([{', '.join(rules)}], lambda r: r IS NOT NULL)))"


def defect_rules(defects: str) -> str:
    """The rules named by bronze's `_defects` (`rule[:detail]` joined by `;`), distinct; empty when NULL."""
    return f"coalesce(list_distinct(string_split(regexp_replace({defects}, ':[^;]*', '', 'g'), ';')), {EMPTY_RULES})"


def standardized_columns(spec: SilverSpec) -> tuple[str, ...]:
    """The columns standardize_sql returns before any `keep`: typed, version, lineage, `_raw_*`, `_rules`."""
    return (*spec.column_names, VERSION, *LINEAGE, *(RAW + c for c in (*raw_columns(spec), CORRUPT)), RULES_COL)


def standardize_sql(spec: SilverSpec, source: str, keep: tuple[str, ...] = ()) -> str:
    """Per conformed bronze row of `source`: typed spec columns, `_updated_at`, lineage, `_raw_<column>` strings,
    sorted `_rules`, then `keep`. A `_corrupt_record` row carries only its bronze defects (else wrong_column_count).

    Typed values are computed once in an inner query and the rules read them by name, so neither engine plans
    the same parse twice."""
    raws = (*raw_columns(spec), CORRUPT)
    inner = [*(f"{parse(c, c.name)} AS {c.name}" for c in spec.columns), f"{version_sql(spec.version_column)} AS {VERSION}",
             *LINEAGE, *(f"{c} AS {RAW}{c}" for c in raws), DEFECTS, *keep]
    checks: dict[str, list[str]] = {"null_key": [], "unparseable_date": [], "unparseable_number": [],
                                    "negative_value": [], "unaccepted_value": []}
    for column in spec.columns:
        if column.type != "string":
            rule = "unparseable_date" if column.type == "date" else "unparseable_number"
            checks[rule].append(f"coalesce(trim({RAW}{column.name}) <> '' AND {column.name} IS NULL, false)")
        if column.non_negative:
            checks["negative_value"].append(f"coalesce({column.name} < 0, false)")
        if column.name in spec.primary_key:
            checks["null_key"].append(f"NOT coalesce(trim({RAW}{column.name}) <> '', false)")
    checks["unparseable_date"].append(f"{VERSION} IS NULL")
    for name, values in spec.accepted_values.items():
        checks["unaccepted_value"].append(f"coalesce(NOT {name} IN ({', '.join(literal(v) for v in values)}), false)")
    failed = [f"CASE WHEN {' OR '.join(conds)} THEN {literal(rule)} END" for rule, conds in checks.items() if conds]
    found = defect_rules(DEFECTS)
    rules = (f"CASE WHEN {RAW}{CORRUPT} IS NOT NULL THEN (CASE WHEN array_length({found}) > 0 THEN list_sort({found}) "
             f"ELSE ['wrong_column_count'] END) ELSE list_sort(list_distinct(list_concat("
             f"list_filter([{', '.join(failed)}], lambda r: r IS NOT NULL), {found}))) END")
    outer = [*(c for c in standardized_columns(spec) if c != RULES_COL), f"{rules} AS {RULES_COL}", *keep]
    return f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)} FROM {source}) AS p"


def silver_columns(spec: SilverSpec) -> tuple[str, ...]:
    """The silver table's columns in order: TPC-H columns, then the metadata columns."""
    return (*spec.column_names, *SILVER_METADATA)


def silver_types(spec: SilverSpec) -> Columns:
    """The silver table's columns with their declared types (what every write casts to)."""
    metadata = tuple((c, "timestamp" if c == VERSION else "string") for c in SILVER_METADATA)
    return (*((c.name, c.type) for c in spec.columns), *metadata)


def quarantine_types(spec: SilverSpec) -> Columns:
    """The quarantine table's columns: raw values as delivered, `_rules`, `_status`, lineage (its day is the
    partition's), `_run_id`."""
    raw = tuple((c, "string") for c in (*raw_columns(spec), CORRUPT))
    return (*raw, (RULES_COL, "array<string>"), ("_status", "string"), ("_source_ref", "string"),
            ("_record_hash", "string"), ("_run_id", "string"))

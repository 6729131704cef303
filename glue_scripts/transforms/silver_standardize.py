"""Silver standardization: one bronze row (raw strings) → typed spec columns, the raw values and its failed rules."""

from __future__ import annotations

import re

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from glue_scripts.common.records import DEFECTS
from glue_scripts.common.specs import DATE_FORMATS, SilverSpec
from glue_scripts.common.specs import Column as SpecColumn

CORRUPT = "_corrupt_record"
RAW = "_raw"
RULES_COL = "_rules"
VERSION = "_updated_at"
VERSION_FORMAT = "yyyy-MM-dd HH:mm:ss"
SILVER_METADATA: tuple[str, ...] = ("_updated_at", "_ingestion_date", "_source_ref", "_record_hash", "_run_id")
LINEAGE: tuple[str, ...] = ("_ingestion_date", "_source_ref", "_record_hash")

_TOKENS = {"yyyy": r"\d{4}", "MM": r"\d{2}", "dd": r"\d{2}", "HH": r"\d{2}", "mm": r"\d{2}", "ss": r"\d{2}"}
_INTEGER_DIGITS = {"int": 9, "bigint": 18}
_DECIMAL = re.compile(r"decimal\((\d+),\s*(\d+)\)")


def pattern_regex(fmt: str) -> str:
    """An anchored regex for a Spark datetime pattern built from yyyy/MM/dd/HH/mm/ss and literals."""
    parts = re.split(r"(yyyy|MM|dd|HH|mm|ss)", fmt)
    return "^" + "".join(_TOKENS.get(p, re.escape(p)) for p in parts) + "$"


def number_regex(type_: str) -> str:
    """An anchored regex of the strings that cast to `type_` exactly: no overflow, no rounding, no garbage."""
    if type_ in _INTEGER_DIGITS:
        return rf"^[+-]?[0-9]{{1,{_INTEGER_DIGITS[type_]}}}$"
    match = _DECIMAL.fullmatch(type_)
    if not match:
        raise ValueError(f"not a numeric silver type: {type_}")
    precision, scale = int(match.group(1)), int(match.group(2))
    return rf"^[+-]?([0-9]{{1,{precision - scale}}}(\.[0-9]{{0,{scale}}})?|\.[0-9]{{1,{scale}}})$"


def is_numeric(type_: str) -> bool:
    """True for the integer and decimal silver types."""
    return type_ in _INTEGER_DIGITS or bool(_DECIMAL.fullmatch(type_))


def raw_columns(spec: SilverSpec) -> tuple[str, ...]:
    """The bronze source columns silver reads: the TPC-H columns, then the version column."""
    return (*spec.column_names, spec.version_column)


def conform_raw(bronze: DataFrame, spec: SilverSpec, keep: tuple[str, ...] = ()) -> DataFrame:
    """Raw spec columns as strings (null where missing), `_corrupt_record`, `_defects`, lineage, then `keep`;
    drift dropped."""
    for old, new in spec.drift_renames.items():
        if old in bronze.columns and new not in bronze.columns:
            bronze = bronze.withColumnRenamed(old, new)
    present = set(bronze.columns)

    def pick(name: str) -> Column:
        return (F.col(name).cast("string") if name in present else F.lit(None).cast("string")).alias(name)

    return bronze.select(*[pick(c) for c in (*raw_columns(spec), CORRUPT, DEFECTS, *LINEAGE)], *keep)


def _present(value: Column) -> Column:
    return value.isNotNull() & (value != "")


def _parse_datetime(value: Column, formats: tuple[str, ...], to: str) -> Column:
    parse = F.to_date if to == "date" else F.to_timestamp
    return F.coalesce(*[F.when(value.rlike(pattern_regex(f)), parse(value, f)) for f in formats])


def parse(column: SpecColumn, raw: Column) -> tuple[Column, Column]:
    """(typed value, unparseable flag) for one spec column; empty strings are null, never unparseable."""
    if column.type == "string":
        value = F.trim(raw) if column.trim else raw
        return (F.upper(value) if column.upper else value), F.lit(False)
    value = F.trim(raw)
    if is_numeric(column.type):
        ok = value.rlike(number_regex(column.type))
        typed = F.when(ok, value.cast(column.type))
    elif column.type == "date":
        typed = _parse_datetime(value, DATE_FORMATS, "date")
    else:
        raise ValueError(f"unsupported silver type {column.type!r} for {column.name}")
    return typed, F.coalesce(_present(value) & typed.isNull(), F.lit(False))


def parse_version(raw: Column) -> tuple[Column, Column]:
    """(timestamp, unparseable flag) of the version column; a missing version cannot be ordered, so it fails too."""
    value = F.trim(raw)
    typed = _parse_datetime(value, (VERSION_FORMAT,), "timestamp")
    return typed, F.coalesce(typed.isNull(), F.lit(True))


def standardize(raw: DataFrame, spec: SilverSpec, keep: tuple[str, ...] = ()) -> DataFrame:
    """Per conformed bronze row: typed spec columns, `_updated_at`, lineage, `_raw` strings, sorted `_rules`, `keep`."""
    typed: dict[str, Column] = {}
    bad_date, bad_number, negative, null_key = [], [], [], []
    for column in spec.columns:
        value, bad = parse(column, F.col(column.name))
        typed[column.name] = value
        (bad_date if column.type == "date" else bad_number if is_numeric(column.type) else []).append(bad)
        if column.non_negative:
            negative.append(F.coalesce(value < 0, F.lit(False)))
        if column.name in spec.primary_key:
            null_key.append(~F.coalesce(_present(F.trim(F.col(column.name))), F.lit(False)))
    version, bad_version = parse_version(F.col(spec.version_column))
    bad_date.append(bad_version)
    unaccepted = [F.coalesce(~typed[name].isin(*values), F.lit(False)) for name, values in spec.accepted_values.items()]
    checks = {"null_key": null_key, "unparseable_date": bad_date, "unparseable_number": bad_number,
              "negative_value": negative, "unaccepted_value": unaccepted}
    failed = [F.when(_any(conds), F.lit(rule)) for rule, conds in checks.items() if conds]
    found = defect_rules(F.col(DEFECTS))
    rules = F.array_sort(F.array_distinct(F.concat(F.filter(F.array(*failed), lambda r: r.isNotNull()), found)))
    corrupt = F.when(F.size(found) > 0, F.array_sort(found)).otherwise(F.array(F.lit("wrong_column_count")))
    rules = F.when(F.col(CORRUPT).isNotNull(), corrupt).otherwise(rules)
    raw_struct = F.struct(*[F.col(c) for c in (*raw_columns(spec), CORRUPT)])
    return raw.select(
        *[v.alias(k) for k, v in typed.items()],
        version.alias(VERSION),
        *[F.col(c) for c in LINEAGE],
        raw_struct.alias(RAW),
        rules.alias(RULES_COL),
        *keep,
    )


def defect_rules(defects: Column) -> Column:
    """The rules named by bronze's `_defects` (`rule[:detail]` joined by `;`), distinct; empty when null.

    A row whose `_corrupt_record` is set but carries no defect (partitions written before `_defects`) is
    `wrong_column_count`, as it always was.
    """
    names = F.transform(F.split(defects, ";"), lambda d: F.substring_index(d, ":", 1))
    return F.coalesce(F.array_distinct(names), F.array().cast("array<string>"))


def _any(conditions: list[Column]) -> Column:
    out = conditions[0]
    for condition in conditions[1:]:
        out = out | condition
    return out


def silver_columns(spec: SilverSpec) -> tuple[str, ...]:
    """The silver table's columns in order: TPC-H columns, then the metadata columns."""
    return (*spec.column_names, *SILVER_METADATA)

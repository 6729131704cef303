"""Silver web events as canonical SQL: one row per parsed web access log line of a bronze day; malformed lines go
to quarantine. Builders take relation names and return SQL; nothing here reads or writes."""

from __future__ import annotations

from glue_scripts.common.specs import LOG_COLUMNS, WEB_EVENTS
from glue_scripts.engine.dialect import Columns, literal
from glue_scripts.transforms.silver_standardize import LINEAGE, RULES_COL, rule_set

LOG_RAW: tuple[str, ...] = ("raw_line", "client", "ts", "method", "path", "status", "bytes", "referrer", "user_agent")
WEB_COLUMNS: tuple[str, ...] = tuple(name for name, _ in WEB_EVENTS.data_columns)
WEB_METADATA: tuple[str, ...] = ("_ingestion_date", "_source_ref", "_record_hash", "_run_id")
# `dd/MMM/yyyy:HH:mm:ss Z` (fixed width): the month by its English abbreviation, any case, as Spark parses it.
TS_REGEX = (r"^(0[1-9]|[12][0-9]|3[01])/[A-Za-z]{3}/[0-9]{4}:([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9] "
            r"[+-](0[0-9]|1[0-7])[0-5][0-9]\z")
MONTHS: tuple[str, ...] = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
BOT_REGEX = r"(?i)(bot|crawler|spider)"
_DIGITS = {"status": r"^[0-9]{1,9}\z", "bytes": r"^[0-9]{1,18}\z"}


def web_types() -> Columns:
    """The web_events table's columns with their declared types."""
    return (*WEB_EVENTS.data_columns, *((c, "string") for c in WEB_METADATA))


def web_quarantine_types() -> Columns:
    """The web_events quarantine columns: raw log values, `_rules`, `_status`, lineage (day from the partition)."""
    return (*((c, "string") for c in LOG_RAW), (RULES_COL, "array<string>"), ("_status", "string"),
            ("_source_ref", "string"), ("_record_hash", "string"), ("_run_id", "string"))


def bronze_log_inputs() -> tuple[str, ...]:
    """Every bronze column the web events read."""
    return (*LOG_COLUMNS, *LINEAGE)


def path_key(path: str, segment: str, param: str) -> str:
    """A bigint key from `/<segment>/<n>` in the path, else from the `<param>=<n>` query parameter."""
    end = r"\z"
    in_path = f"regexp_extract({path}, {literal(f'/{segment}/([0-9]{{1,18}})([/?#;]|{end})')}, 1)"
    in_query = f"regexp_extract({path}, {literal(f'[?&]{param}=([0-9]{{1,18}})([&#;]|{end})')}, 1)"
    return f"CAST(CASE WHEN {in_path} <> '' THEN {in_path} WHEN {in_query} <> '' THEN {in_query} END AS BIGINT)"


def conform_logs_sql(source: str, present: set[str]) -> str:
    """The raw log columns as strings (NULL where missing), `_parse_error` (false when absent), lineage."""
    picked = [f"CAST({c} AS VARCHAR) AS {c}" if c in present else f"CAST(NULL AS VARCHAR) AS {c}" for c in (*LOG_RAW, *LINEAGE)]
    error = "coalesce(CAST(_parse_error AS BOOLEAN), false)" if "_parse_error" in present else "false"
    return f"SELECT {', '.join(picked)}, {error} AS _parse_error FROM {source}"


def _timestamp(t: str) -> str:
    """`t` as a UTC timestamp through its ISO form with offset; NULL unless it matches TS_REGEX and is a real instant."""
    month = f"CASE lower(substr({t}, 4, 3)) " + " ".join(f"WHEN '{m}' THEN '{i:02d}'" for i, m in enumerate(MONTHS, 1)) + " END"
    iso = (f"substr({t}, 8, 4) || '-' || {month} || '-' || substr({t}, 1, 2) || ' ' || substr({t}, 13, 8) || "
           f"substr({t}, 22, 3) || ':' || substr({t}, 25, 2)")
    return f"CASE WHEN regexp_matches({t}, {literal(TS_REGEX)}) THEN TRY_CAST({iso} AS TIMESTAMPTZ) END"


def standardize_logs_sql(source: str) -> str:
    """Typed event columns, lineage, the raw log columns under `_raw_<name>`, and `_rules`.

    Identical lines in one file are separate requests (same client, second and path), so nothing is
    deduplicated: a file is never ingested twice into one bronze partition, which replaces itself.
    """
    ok = {name: f"coalesce(regexp_matches({name}, {literal(pattern)}), false)" for name, pattern in _DIGITS.items()}
    bad_number = f"NOT ({ok['status']} AND ({ok['bytes']} OR coalesce(bytes = '-', false)))"
    typed = {
        "ts": _timestamp("trim(ts)"),
        "client": "client", "method": "method", "path": "path",
        "status": f"CASE WHEN {ok['status']} THEN CAST(status AS INTEGER) END",
        "bytes": f"CASE WHEN {ok['bytes']} THEN CAST(bytes AS BIGINT) END",
        "referrer": "referrer", "user_agent": "user_agent",
        "customer_key": path_key("path", "customers", "customer"),
        "part_key": path_key("path", "parts", "part"),
        "is_bot": f"coalesce(regexp_matches(user_agent, {literal(BOT_REGEX)}), false)",
    }
    parsed = (f"SELECT {', '.join(f'{v} AS {k}' for k, v in typed.items())}, {', '.join(LINEAGE)}, "
              f"{', '.join(f'{c} AS _raw_{c}' for c in LOG_RAW)}, _parse_error, {bad_number} AS bad_number FROM {source}")
    failed = rule_set(["CASE WHEN ts IS NULL THEN 'unparseable_date' END",
                       "CASE WHEN bad_number THEN 'unparseable_number' END"])
    rules = f"CASE WHEN _parse_error THEN ['malformed_line'] ELSE {failed} END"
    kept = ", ".join([*WEB_COLUMNS, *LINEAGE, *(f"_raw_{c}" for c in LOG_RAW)])
    return f"SELECT {kept}, {rules} AS {RULES_COL} FROM ({parsed}) AS p"


def web_silver_sql(events: str) -> str:
    """The silver rows (no `_run_id` yet): lines without a failed rule."""
    return f"SELECT {', '.join([*WEB_COLUMNS, *LINEAGE])} FROM {events} WHERE array_length({RULES_COL}) = 0"


def web_quarantine_sql(events: str) -> str:
    """The quarantine rows (no `_run_id` yet): lines with a failed rule, raw values as delivered."""
    raw = ", ".join(f"_raw_{c} AS {c}" for c in LOG_RAW)
    return (f"SELECT {raw}, {RULES_COL}, 'rejected' AS _status, _source_ref, _record_hash FROM {events} "
            f"WHERE array_length({RULES_COL}) > 0")

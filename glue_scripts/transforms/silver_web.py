"""Silver web events: one row per parsed web access log line of a bronze day; malformed lines go to quarantine."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from glue_scripts.transforms.silver_standardize import LINEAGE, RULES_COL

LOG_RAW: tuple[str, ...] = ("raw_line", "client", "ts", "method", "path", "status", "bytes", "referrer", "user_agent")
WEB_COLUMNS: tuple[str, ...] = (
    "ts", "client", "method", "path", "status", "bytes", "referrer", "user_agent", "customer_key", "part_key", "is_bot",
)
WEB_METADATA: tuple[str, ...] = ("_ingestion_date", "_source_ref", "_record_hash", "_run_id")
TS_FORMAT = "dd/MMM/yyyy:HH:mm:ss Z"
TS_REGEX = r"^\d{2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}$"
BOT_REGEX = r"(?i)(bot|crawler|spider)"


def path_key(path: Column, segment: str, param: str) -> Column:
    """A bigint key from `/<segment>/<n>` in the path, else from the `<param>=<n>` query parameter."""
    in_path = F.regexp_extract(path, rf"/{segment}/([0-9]{{1,18}})(?=[/?#;]|$)", 1)
    in_query = F.regexp_extract(path, rf"[?&]{param}=([0-9]{{1,18}})(?=[&#;]|$)", 1)
    value = F.when(in_path != "", in_path).when(in_query != "", in_query)
    return value.cast("bigint")


def conform_logs(bronze: DataFrame) -> DataFrame:
    """The raw log columns as strings, `_parse_error` (false when absent) and the lineage columns."""
    present = set(bronze.columns)

    def pick(name: str) -> Column:
        return (F.col(name).cast("string") if name in present else F.lit(None).cast("string")).alias(name)

    parse_error = F.lit(False)
    if "_parse_error" in present:
        parse_error = F.coalesce(F.col("_parse_error").cast("boolean"), F.lit(False))
    return bronze.select(*[pick(c) for c in (*LOG_RAW, *LINEAGE)], parse_error.alias("_parse_error"))


def standardize_logs(raw: DataFrame) -> DataFrame:
    """Typed event columns, the raw log columns under `_raw_<name>`, and `_rules`.

    Identical lines in one file are separate requests (same client, second and path), so nothing is
    deduplicated: a file is never ingested twice into one bronze partition, which replaces itself.
    """
    ts_text = F.trim(F.col("ts"))
    ts = F.when(ts_text.rlike(TS_REGEX), F.to_timestamp(ts_text, TS_FORMAT))
    status_ok = F.col("status").rlike(r"^[0-9]{1,9}$")
    bytes_ok = F.col("bytes").rlike(r"^[0-9]{1,18}$")
    bad_number = ~F.coalesce(status_ok & (bytes_ok | (F.col("bytes") == "-")), F.lit(False))
    rules = F.when(F.col("_parse_error"), F.array(F.lit("malformed_line"))).otherwise(
        F.array_sort(F.filter(F.array(F.when(ts.isNull(), F.lit("unparseable_date")),
                                      F.when(bad_number, F.lit("unparseable_number"))), lambda r: r.isNotNull()))
    )
    typed = {
        "ts": ts,
        "client": F.col("client"),
        "method": F.col("method"),
        "path": F.col("path"),
        "status": F.when(status_ok, F.col("status").cast("int")),
        "bytes": F.when(bytes_ok, F.col("bytes").cast("bigint")),
        "referrer": F.col("referrer"),
        "user_agent": F.col("user_agent"),
        "customer_key": path_key(F.col("path"), "customers", "customer"),
        "part_key": path_key(F.col("path"), "parts", "part"),
        "is_bot": F.coalesce(F.col("user_agent").rlike(BOT_REGEX), F.lit(False)),
    }
    return raw.select(
        *[v.alias(k) for k, v in typed.items()],
        *[F.col(c) for c in LINEAGE],
        *[F.col(c).alias(f"_raw_{c}") for c in LOG_RAW],
        rules.alias(RULES_COL),
    )


def web_silver_rows(events: DataFrame) -> DataFrame:
    """The silver rows (no `_run_id` yet): kept lines without a failed rule."""
    kept = events.where(F.size(RULES_COL) == 0)
    return kept.select(*WEB_COLUMNS, *[c for c in WEB_METADATA if c != "_run_id"])


def web_quarantine_rows(events: DataFrame) -> DataFrame:
    """The quarantine rows (no `_run_id` yet): kept lines with a failed rule, raw values as delivered."""
    bad = events.where(F.size(RULES_COL) > 0)
    return bad.select(*[F.col(f"_raw_{c}").alias(c) for c in LOG_RAW], RULES_COL,
                      F.lit("rejected").alias("_status"), *LINEAGE)

"""Gold transforms over silver web_events: sessionization, daily traffic, and per-customer web activity.

Session rule (shared by every web measure): take the non-bot events (`is_bot` null counts as non-bot)
that have a timestamp, group them by `client` (the IP address), order each client's events by `ts`,
and start a new session whenever the gap to that client's previous event exceeds 30 minutes (a gap of
exactly 30 minutes continues the session). A session starts at its first event's `ts` and belongs to
every non-null `customer_key` seen in any of its events.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

SESSION_GAP_MICROS = 30 * 60 * 1_000_000
TOP_PARTS = 5

WEB_EVENTS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("ts", "timestamp"),
    ("client", "string"),
    ("method", "string"),
    ("path", "string"),
    ("status", "int"),
    ("bytes", "bigint"),
    ("referrer", "string"),
    ("user_agent", "string"),
    ("customer_key", "bigint"),
    ("part_key", "bigint"),
    ("is_bot", "boolean"),
)


def human_events(events: DataFrame) -> DataFrame:
    """The non-bot events with a timestamp; one row per event."""
    return events.where(F.col("ts").isNotNull() & ~F.coalesce(F.col("is_bot"), F.lit(False)))


def sessionize(events: DataFrame) -> DataFrame:
    """Non-bot events tagged with their session: one row per event, plus `session_no` and `session_start`.

    `session_no` numbers a client's sessions from 1 in time order; (client, session_no) identifies a session.
    """
    by_client = Window.partitionBy("client").orderBy("ts")
    micros = F.expr("unix_micros(ts)")
    gap = micros - F.lag(micros).over(by_client)
    starts = F.when(gap.isNull() | (gap > SESSION_GAP_MICROS), 1).otherwise(0)
    tagged = human_events(events).withColumn("_starts", starts)
    running = by_client.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    numbered = tagged.withColumn("session_no", F.sum("_starts").over(running))
    session = Window.partitionBy("client", "session_no")
    return numbered.drop("_starts").withColumn("session_start", F.min("ts").over(session))


def web_traffic_daily(events: DataFrame) -> DataFrame:
    """One row per UTC event_date: page_views, bot_share, sessions started, unique customers, top 5 parts."""
    dated = events.where(F.col("ts").isNotNull()).withColumn("event_date", F.to_date("ts"))
    is_bot = F.coalesce(F.col("is_bot"), F.lit(False))
    daily = dated.groupBy("event_date").agg(
        F.count(F.lit(1)).alias("page_views"),
        (F.sum(F.when(is_bot, 1).otherwise(0)) / F.count(F.lit(1))).cast("double").alias("bot_share"),
        F.countDistinct(F.when(~is_bot, F.col("customer_key"))).alias("unique_customers"),
    )
    sessions = (
        sessionize(events)
        .select("client", "session_no", F.to_date("session_start").alias("event_date"))
        .distinct()
        .groupBy("event_date")
        .agg(F.count(F.lit(1)).alias("sessions"))
    )
    views = (
        human_events(events)
        .where(F.col("part_key").isNotNull())
        .groupBy(F.to_date("ts").alias("event_date"), "part_key")
        .agg(F.count(F.lit(1)).alias("views"))
    )
    rank = F.row_number().over(Window.partitionBy("event_date").orderBy(F.desc("views"), F.asc("part_key")))
    top = (
        views.withColumn("rank", rank)
        .where(F.col("rank") <= TOP_PARTS)
        .groupBy("event_date")
        .agg(F.expr("transform(array_sort(collect_list(struct(rank, part_key))), x -> x.part_key)").alias("top_parts"))
    )
    return daily.join(sessions, "event_date", "left").join(top, "event_date", "left").select(
        "event_date",
        "page_views",
        "bot_share",
        F.coalesce(F.col("sessions"), F.lit(0).cast("bigint")).alias("sessions"),
        "unique_customers",
        F.coalesce(F.col("top_parts"), F.array().cast("array<bigint>")).alias("top_parts"),
    )


def customer_web_activity(events: DataFrame) -> DataFrame:
    """One row per customer_key seen in non-bot events: web_sessions (sessions it appears in) and page_views."""
    tagged = sessionize(events).where(F.col("customer_key").isNotNull())
    views = tagged.groupBy("customer_key").agg(F.count(F.lit(1)).alias("page_views"))
    sessions = (
        tagged.select("customer_key", "client", "session_no")
        .distinct()
        .groupBy("customer_key")
        .agg(F.count(F.lit(1)).alias("web_sessions"))
    )
    return sessions.join(views, "customer_key")

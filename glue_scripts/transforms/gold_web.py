"""Gold transforms over silver web_events, defined once as canonical SQL: sessionization, daily traffic, activity.

Session rule (shared by every web measure): take the non-bot events (`is_bot` null counts as non-bot)
that have a timestamp, group them by `client` (the IP address), order each client's events by `ts`,
and start a new session whenever the gap to that client's previous event exceeds 30 minutes (a gap of
exactly 30 minutes continues the session). A session starts at its first event's `ts` and belongs to
every non-null `customer_key` seen in any of its events. Dates are UTC (both engines run in UTC).
"""

from __future__ import annotations

TOP_PARTS = 5
NOT_BOT = "NOT coalesce(is_bot, false)"


def human_events(events: str) -> str:
    """The non-bot events with a timestamp; one row per event."""
    return f"SELECT client, ts, customer_key, part_key FROM {events} AS ev WHERE ts IS NOT NULL AND {NOT_BOT}"


def sessionize(events: str) -> str:
    """Non-bot events tagged with their session: one row per event, plus `session_no` and `session_start`.

    `session_no` numbers a client's sessions from 1 in time order; (client, session_no) identifies a session.
    """
    previous = "lag(ts) OVER (PARTITION BY client ORDER BY ts)"
    return f"""
        SELECT client, ts, customer_key, part_key, session_no,
               min(ts) OVER (PARTITION BY client, session_no) AS session_start
        FROM (SELECT client, ts, customer_key, part_key,
                     sum(starts) OVER (PARTITION BY client ORDER BY ts
                                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_no
              FROM (SELECT client, ts, customer_key, part_key,
                           CASE WHEN {previous} IS NULL OR ts > {previous} + INTERVAL 30 MINUTE THEN 1 ELSE 0 END
                             AS starts
                    FROM ({human_events(events)}) AS h) AS g) AS s"""


def web_traffic_daily(events: str) -> str:
    """One row per UTC event_date: page_views, bot_share, sessions started, unique customers, top 5 parts."""
    daily = f"""
        SELECT CAST(ts AS DATE) AS event_date, count(*) AS page_views,
               CAST(sum(CASE WHEN {NOT_BOT} THEN 0 ELSE 1 END) AS DOUBLE) / count(*) AS bot_share,
               count(DISTINCT CASE WHEN {NOT_BOT} THEN customer_key END) AS unique_customers
        FROM {events} AS ev WHERE ts IS NOT NULL GROUP BY CAST(ts AS DATE)"""
    sessions = f"""
        SELECT event_date, count(*) AS sessions
        FROM (SELECT DISTINCT client, session_no, CAST(session_start AS DATE) AS event_date
              FROM ({sessionize(events)}) AS s) AS d
        GROUP BY event_date"""
    views = f"""
        SELECT CAST(ts AS DATE) AS event_date, part_key, count(*) AS views
        FROM ({human_events(events)}) AS h WHERE part_key IS NOT NULL GROUP BY CAST(ts AS DATE), part_key"""
    top = f"""
        SELECT event_date, lakehouse_ordered_list(part_key, part_rank) AS top_parts
        FROM (SELECT event_date, part_key,
                     row_number() OVER (PARTITION BY event_date ORDER BY views DESC, part_key ASC) AS part_rank
              FROM ({views}) AS v) AS r
        WHERE part_rank <= {TOP_PARTS} GROUP BY event_date"""
    return f"""
        SELECT d.event_date, d.page_views, d.bot_share, coalesce(s.sessions, 0) AS sessions, d.unique_customers,
               coalesce(t.top_parts, CAST([] AS BIGINT[])) AS top_parts
        FROM ({daily}) AS d
        LEFT JOIN ({sessions}) AS s ON d.event_date = s.event_date
        LEFT JOIN ({top}) AS t ON d.event_date = t.event_date"""


def customer_web_activity(events: str) -> str:
    """One row per customer_key seen in non-bot events: web_sessions (sessions it appears in) and page_views."""
    tagged = f"SELECT customer_key, client, session_no FROM ({sessionize(events)}) AS s WHERE customer_key IS NOT NULL"
    return f"""
        SELECT v.customer_key, w.web_sessions, v.page_views
        FROM (SELECT customer_key, count(*) AS page_views FROM ({tagged}) AS a GROUP BY customer_key) AS v
        JOIN (SELECT customer_key, count(*) AS web_sessions
              FROM (SELECT DISTINCT customer_key, client, session_no FROM ({tagged}) AS b) AS d
              GROUP BY customer_key) AS w ON v.customer_key = w.customer_key"""

"""Web access logs: combined log format, one gzip file per hour, bots, malformed lines, one truncated file."""

from __future__ import annotations

import gzip
import io
import random
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from lakehouse.sources.manifest import Tally

TABLE = "logs__web_access"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
)
BOTS = ("Googlebot/2.1 (+http://www.google.com/bot.html)", "Mozilla/5.0 (compatible; AhrefsBot/7.0)",
        "python-crawler/1.0", "Baiduspider/2.0 (spider)")
MALFORMED = ("GET /customers HTTP/1.1", "-- connection reset --", '10.0.0.1 - - [bad timestamp "GET / HTTP/1.1" 200',
             "\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03")
BOT_RATE = 0.08
MIN_LINES_PER_DAY, MAX_LINES_PER_DAY = 480, 48_000
TRUTH_SCHEMA = pa.schema([
    ("ts", pa.timestamp("us", tz="UTC")), ("client", pa.string()), ("method", pa.string()), ("path", pa.string()),
    ("status", pa.int32()), ("bytes", pa.int64()), ("customer_key", pa.int64()), ("part_key", pa.int64()),
    ("is_bot", pa.bool_()),
])


def gzip_bytes(text: str) -> bytes:
    """Gzip `text` deterministically (no file name, mtime 0)."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as f:
        f.write(text.encode())
    return buf.getvalue()


def _path(rng: random.Random, customers: int, parts: int) -> tuple[str, int | None, int | None]:
    """A request path and the customer and part keys it names (None where it names none)."""
    c, p = rng.randint(1, customers), rng.randint(1, parts)
    return rng.choice(((f"/customers/{c}", c, None), (f"/customers/{c}/orders", c, None), (f"/parts/{p}", None, p),
                       (f"/parts/{p}/reviews", None, p), (f"/search?q=steel&part={p}", None, p),
                       (f"/cart/add?customer={c}&part={p}", c, p), ("/", None, None), ("/static/app.js", None, None)))


def log_line(rng: random.Random, day: date, hour: int, second: int, customers: int, parts: int) -> tuple[str, dict[str, Any]]:
    """One combined-log-format line and the event it records (the ground truth of its parsed values)."""
    bot = rng.random() < BOT_RATE
    agent = rng.choice(BOTS if bot else BROWSERS)
    ip = f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    ts = f"{day.day:02d}/{MONTHS[day.month - 1]}/{day.year}:{hour:02d}:{second // 60:02d}:{second % 60:02d} +0000"
    method = "POST" if rng.random() < 0.1 else "GET"
    status = rng.choice((200, 200, 200, 200, 304, 404, 500))
    size = "-" if status == 304 else str(rng.randint(200, 40_000))
    referrer = "-" if rng.random() < 0.5 else f"https://shop.example.com{_path(rng, customers, parts)[0]}"
    path, customer_key, part_key = _path(rng, customers, parts)
    event = {"ts": datetime(day.year, day.month, day.day, hour, second // 60, second % 60, tzinfo=timezone.utc),
             "client": ip, "method": method, "path": path, "status": status, "bytes": None if size == "-" else int(size),
             "customer_key": customer_key, "part_key": part_key, "is_bot": bot}
    return f'{ip} - - [{ts}] "{method} {path} HTTP/1.1" {status} {size} "{referrer}" "{agent}"', event


def write_logs(staging: Path, days: list[date], orders_per_day: list[int], customers: int, parts: int,
               rng: random.Random, tally: Tally, truth: Path) -> dict[str, Any]:
    """Stage 24 hourly files per day under `drops/arrival=<D>/logs/web_access/...`; return the corrupt file's facts.

    `truth` receives the ground truth: one row per well-formed line of every readable file (the events
    silver web_events must hold), with the keys and bot flag the simulator chose rather than parsed ones.
    """
    corrupt_day, corrupt_hour = rng.randrange(len(days)), rng.randrange(24)
    corrupt: dict[str, Any] = {}
    events: list[dict[str, Any]] = []
    for i, day in enumerate(days):
        total = min(MAX_LINES_PER_DAY, max(MIN_LINES_PER_DAY, orders_per_day[i] // 4))
        malformed_at = {(rng.choice([h for h in range(24) if (i, h) != (corrupt_day, corrupt_hour)]), rng.randrange(total // 24))
                        for _ in range(rng.randint(3, 8))}
        counts = tally.day(TABLE, str(day))
        counts.update(files=24, bot_lines=0, malformed_lines=0)
        for hour in range(24):
            rel = f"logs/web_access/ingestion_date={day}/access-{hour:02d}.log.gz"
            seconds = sorted(rng.randrange(3600) for _ in range(total // 24))
            lines, bots, bad, file_events = [], 0, 0, []
            for j, second in enumerate(seconds):
                if (hour, j) in malformed_at:
                    lines.append(rng.choice(MALFORMED))
                    bad += 1
                line, event = log_line(rng, day, hour, second, customers, parts)
                lines.append(line)
                file_events.append(event)
                bots += event["is_bot"]
            data = gzip_bytes("".join(line + "\n" for line in lines))
            target = staging / f"arrival={day}" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if (i, hour) == (corrupt_day, corrupt_hour):
                target.write_bytes(data[: len(data) // 2])
                corrupt = {"path": rel, "ingestion_date": str(day), "lines": len(lines), "bot_lines": bots}
                continue
            target.write_bytes(data)
            events.extend(file_events)
            counts["rows_delivered"] += len(lines)
            counts["bot_lines"] += bots
            counts["malformed_lines"] += bad
            counts["bad_rows"]["malformed_line"] += bad
        counts["lines"] = counts["rows_delivered"]
    truth.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(events, schema=TRUTH_SCHEMA), truth)
    return {"files_per_day": 24, "corrupt_file": corrupt}

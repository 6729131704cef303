"""Web access logs: combined log format, one gzip file per hour, bots, malformed lines, one truncated file."""

from __future__ import annotations

import gzip
import io
import random
from datetime import date
from pathlib import Path
from typing import Any

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


def gzip_bytes(text: str) -> bytes:
    """Gzip `text` deterministically (no file name, mtime 0)."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as f:
        f.write(text.encode())
    return buf.getvalue()


def _path(rng: random.Random, customers: int, parts: int) -> str:
    c, p = rng.randint(1, customers), rng.randint(1, parts)
    return rng.choice((f"/customers/{c}", f"/customers/{c}/orders", f"/parts/{p}", f"/parts/{p}/reviews",
                       f"/search?q=steel&part={p}", f"/cart/add?customer={c}&part={p}", "/", "/static/app.js"))


def log_line(rng: random.Random, day: date, hour: int, second: int, customers: int, parts: int) -> tuple[str, bool]:
    """One combined-log-format line and whether a bot sent it."""
    bot = rng.random() < BOT_RATE
    agent = rng.choice(BOTS if bot else BROWSERS)
    ip = f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    ts = f"{day.day:02d}/{MONTHS[day.month - 1]}/{day.year}:{hour:02d}:{second // 60:02d}:{second % 60:02d} +0000"
    method = "POST" if rng.random() < 0.1 else "GET"
    status = rng.choice((200, 200, 200, 200, 304, 404, 500))
    size = "-" if status == 304 else str(rng.randint(200, 40_000))
    referrer = "-" if rng.random() < 0.5 else f"https://shop.example.com{_path(rng, customers, parts)}"
    path = _path(rng, customers, parts)
    return f'{ip} - - [{ts}] "{method} {path} HTTP/1.1" {status} {size} "{referrer}" "{agent}"', bot


def write_logs(staging: Path, days: list[date], orders_per_day: list[int], customers: int, parts: int,
               rng: random.Random, tally: Tally) -> dict[str, Any]:
    """Stage 24 hourly files per day under `drops/arrival=<D>/logs/web_access/...`; return the corrupt file's facts."""
    corrupt_day, corrupt_hour = rng.randrange(len(days)), rng.randrange(24)
    corrupt: dict[str, Any] = {}
    for i, day in enumerate(days):
        total = min(MAX_LINES_PER_DAY, max(MIN_LINES_PER_DAY, orders_per_day[i] // 4))
        malformed_at = {(rng.choice([h for h in range(24) if (i, h) != (corrupt_day, corrupt_hour)]), rng.randrange(total // 24))
                        for _ in range(rng.randint(3, 8))}
        counts = tally.day(TABLE, str(day))
        counts.update(files=24, bot_lines=0, malformed_lines=0)
        for hour in range(24):
            rel = f"logs/web_access/ingestion_date={day}/access-{hour:02d}.log.gz"
            seconds = sorted(rng.randrange(3600) for _ in range(total // 24))
            lines, bots, bad = [], 0, 0
            for j, second in enumerate(seconds):
                if (hour, j) in malformed_at:
                    lines.append(rng.choice(MALFORMED))
                    bad += 1
                line, bot = log_line(rng, day, hour, second, customers, parts)
                lines.append(line)
                bots += bot
            data = gzip_bytes("".join(line + "\n" for line in lines))
            target = staging / f"arrival={day}" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if (i, hour) == (corrupt_day, corrupt_hour):
                target.write_bytes(data[: len(data) // 2])
                corrupt = {"path": rel, "ingestion_date": str(day), "lines": len(lines), "bot_lines": bots}
                continue
            target.write_bytes(data)
            counts["rows_delivered"] += len(lines)
            counts["bot_lines"] += bots
            counts["malformed_lines"] += bad
            counts["bad_rows"]["malformed_line"] += bad
        counts["lines"] = counts["rows_delivered"]
    return {"files_per_day": 24, "corrupt_file": corrupt}

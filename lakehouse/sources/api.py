"""The CRM API: customer records from the store, paged by cursor, filtered by system_modstamp, with auth and faults."""

from __future__ import annotations

import base64
import bisect
import json
import os
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

DEFAULT_API_TOKEN = "local-dev-token"
TOKEN_ENV = "LAKEHOUSE_API_TOKEN"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def default_token() -> str:
    """The bearer token: $LAKEHOUSE_API_TOKEN, else the documented local default."""
    return os.environ.get(TOKEN_ENV) or DEFAULT_API_TOKEN


class CrmServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer holding the record store, the token, the rate limiter and the seeded error stream."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], root: Path, token: str, rate_limit_per_second: float,
                 error_rate: float, seed: int) -> None:
        super().__init__(address, CrmHandler)
        path = Path(root) / "sources" / "api" / "customers.jsonl"
        self.lines = path.read_text().splitlines()
        self.modstamps = [json.loads(line)["system_modstamp"] for line in self.lines]
        self.token, self.rate, self.error_rate = token, rate_limit_per_second, error_rate
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.recent: list[float] = []

    def throttled(self) -> bool:
        """True when more than `rate` requests arrived in the last second."""
        now = time.monotonic()
        with self.lock:
            self.recent = [t for t in self.recent if now - t < 1.0]
            if self.rate and len(self.recent) >= self.rate:
                return True
            self.recent.append(now)
            return False

    def fails(self) -> bool:
        """The next draw of the seeded error stream."""
        with self.lock:
            return self.rng.random() < self.error_rate


def _normalize(ts: str) -> str:
    return ts.replace("T", " ").removesuffix("Z")


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str) -> int:
    text = base64.urlsafe_b64decode(cursor.encode()).decode()
    if not text.startswith("offset:"):
        raise ValueError(cursor)
    return int(text.removeprefix("offset:"))


class CrmHandler(BaseHTTPRequestHandler):
    """GET /v1/customers; GET /health."""

    server: CrmServer

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet."""

    def _send(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps({"error": message}), headers)

    def do_GET(self) -> None:  # noqa: N802
        """Serve one page of customers modified in [updated_since, updated_until)."""
        url = urlparse(self.path)
        if url.path == "/health":
            return self._send(200, '{"status": "ok"}')
        if url.path != "/v1/customers":
            return self._error(404, f"no route {url.path}")
        if self.headers.get("Authorization") != f"Bearer {self.server.token}":
            return self._error(401, "missing or invalid bearer token", {"WWW-Authenticate": "Bearer"})
        if self.server.throttled():
            return self._error(429, "rate limit exceeded", {"Retry-After": "1"})
        if self.server.fails():
            return self._error(500, "internal error (simulated)")
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            limit = min(max(int(query.get("limit", DEFAULT_LIMIT)), 1), MAX_LIMIT)
            offset = _offset(query["cursor"]) if query.get("cursor") else 0
        except ValueError:
            return self._error(400, "invalid limit or cursor")
        stamps = self.server.modstamps
        lo = bisect.bisect_left(stamps, _normalize(query["updated_since"])) if "updated_since" in query else 0
        hi = bisect.bisect_left(stamps, _normalize(query["updated_until"])) if "updated_until" in query else len(stamps)
        start = lo + offset
        end = min(start + limit, hi)
        page = self.server.lines[start:end] if start < hi else []
        next_cursor = json.dumps(_cursor(offset + limit)) if end < hi else "null"
        self._send(200, '{"data": [' + ", ".join(page) + '], "next_cursor": ' + next_cursor + "}")


def make_api_server(root: Path, host: str = "127.0.0.1", port: int = 0, token: str | None = None,
                    rate_limit_per_second: float = 50, error_rate: float = 0.02, seed: int = 0) -> CrmServer:
    """A server bound to host:port serving `<root>/sources/api/customers.jsonl`; the caller runs serve_forever."""
    return CrmServer((host, port), root, token or default_token(), rate_limit_per_second, error_rate, seed)


def serve_api(root: Path, host: str = "127.0.0.1", port: int = 8765, token: str | None = None,
              rate_limit_per_second: float = 50, error_rate: float = 0.02, seed: int = 0) -> None:
    """Serve the CRM API until interrupted."""
    server = make_api_server(root, host, port, token, rate_limit_per_second, error_rate, seed)
    try:
        server.serve_forever()
    finally:
        server.server_close()


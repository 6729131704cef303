"""A scripted CRM API on 127.0.0.1 for the client and job tests: auth, 429/500 faults, pagination."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

TOKEN = "test-token"


@dataclass
class FakeApi:
    """Serves `records` `page_size` at a time after answering the scripted faults in `faults` order."""

    records: list[str]
    page_size: int = 2
    faults: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def answer(self, path: str, query: dict[str, str], auth: str | None) -> tuple[int, dict[str, str], str]:
        """Status, headers and body for one request, recording it."""
        self.log.append({"time": time.monotonic(), "path": path, "query": query, "auth": auth})
        if auth != f"Bearer {TOKEN}":
            return 401, {}, '{"error": "unauthorized"}'
        if self.faults:
            status, headers = self.faults.pop(0)
            return status, headers, '{"error": "scripted"}'
        start = int(query.get("cursor", "0"))
        end = start + min(int(query.get("limit", self.page_size)), self.page_size)
        page = self.records[start:end]
        cursor = json.dumps(str(end)) if end < len(self.records) else "null"
        return 200, {"Content-Type": "application/json"}, f'{{"data": [{", ".join(page)}], "next_cursor": {cursor}}}'


@contextmanager
def serve(api: FakeApi) -> Iterator[FakeApi]:
    """Run `api` in a background thread for the duration of the block."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            parsed = urlparse(self.path)
            query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
            status, headers, body = api.answer(parsed.path, query, self.headers.get("Authorization"))
            data = body.encode()
            self.send_response(status)
            for key, value in {**headers, "Content-Length": str(len(data))}.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()

"""HTTP client for a paginated JSON API: bearer auth, bounded retries with backoff, raw JSON values."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from glue_scripts.common.rawjson import loads_raw
from glue_scripts.common.redact import redact
from glue_scripts.common.transient import TransientSourceError


class ApiError(RuntimeError):
    """A request that failed for good; the message names the source, the URL (redacted) and the cause."""


class ApiUnavailableError(ApiError, TransientSourceError):
    """Every attempt hit a rate limit, a 5xx or a connection failure: worth retrying the whole run later."""


class _Retryable(Exception):
    """A failure worth another attempt: 429, 5xx, or a connection problem."""

    def __init__(self, cause: str, retry_after: float | None = None) -> None:
        super().__init__(cause)
        self.retry_after = retry_after


def parse_retry_after(value: str | None, now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now()).total_seconds())


@dataclass
class ApiClient:
    """GET JSON from `base_url` as `source`, retrying 429/5xx/connection errors up to `max_attempts` times."""

    base_url: str
    token: str
    source: str = "api"
    max_attempts: int = 6
    backoff: float = 0.5
    backoff_max: float = 30.0
    timeout: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session)

    def _wait(self, state: RetryCallState) -> float:
        jittered = wait_random_exponential(multiplier=self.backoff, max=self.backoff_max)(state)
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        return max(float(retry_after), jittered) if retry_after is not None else jittered

    def _attempt(self, url: str, params: dict[str, Any]) -> Any:
        try:
            response = self.session.get(
                url, params=params, headers={"Authorization": f"Bearer {self.token}"}, timeout=self.timeout
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Retryable(redact(f"{type(exc).__name__}: {exc}")) from exc
        status = response.status_code
        if status == 429:
            raise _Retryable("429 Too Many Requests", parse_retry_after(response.headers.get("Retry-After")))
        if status >= 500:
            raise _Retryable(redact(f"{status} {response.reason}: {response.text[:200]}"))
        if status >= 400:
            raise ApiError(redact(f"{self.source}: GET {response.url} returned {status} {response.reason}: {response.text[:200]}"))
        try:
            return loads_raw(response.text)
        except ValueError as exc:
            raise ApiError(redact(f"{self.source}: GET {response.url} returned a body that is not JSON: {exc}")) from exc

    def get_json(self, path: str, params: dict[str, Any]) -> Any:
        """GET `path` with `params`; JSON numbers come back as their text. Raises ApiError on a 4xx or a bad body,
        ApiUnavailableError (transient) when every attempt was throttled, failed with a 5xx or could not connect."""
        url = f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            sleep=self.sleep,
            reraise=True,
        )
        try:
            return retrying(self._attempt, url, params)
        except _Retryable as exc:
            shown = requests.Request("GET", url, params=params).prepare().url
            raise ApiUnavailableError(
                redact(f"{self.source}: GET {shown} failed after {self.max_attempts} attempts: {exc}")
            ) from None

    def pages(
        self, path: str, params: dict[str, Any], limit: int = 1000
    ) -> Iterator[tuple[str | None, list[dict[str, Any]]]]:
        """Yield (cursor sent, records as decoded, numbers kept as their text) for each page until `next_cursor` is null."""
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
            body = self.get_json(path, query)
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise ApiError(redact(f"{self.source}: GET {path} returned no 'data' list (cursor {cursor!r})"))
            yield cursor, [dict(record) for record in body["data"]]
            cursor = body.get("next_cursor")
            if cursor is None:
                return
            if cursor in seen:
                raise ApiError(redact(f"{self.source}: GET {path} repeated cursor {cursor!r}; pagination would not end"))
            seen.add(cursor)

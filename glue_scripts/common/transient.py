"""Transient source failures (rate limits, 5xx, an unreachable database): retried with backoff inside a Glue run,
and recognizable from outside it, where a failed run's ErrorMessage is all that is left of the exception."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

T = TypeVar("T")

# Carried in the message itself, so it survives into Glue's ErrorMessage ("SourceUnavailableError: [transient] ...").
TRANSIENT_MARKER = "[transient]"


class TransientSourceError(RuntimeError):
    """A source failure worth trying again later; its message starts with TRANSIENT_MARKER."""

    def __init__(self, message: str) -> None:
        super().__init__(message if message.startswith(TRANSIENT_MARKER) else f"{TRANSIENT_MARKER} {message}")


def is_transient_message(message: str | None) -> bool:
    """True when an error message (a failed Glue run's, say) reports a transient source failure."""
    return TRANSIENT_MARKER in (message or "")


def with_source_retry(
    call: Callable[[], T], attempts: int = 3, backoff: float = 2.0, backoff_max: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `call`, retrying a TransientSourceError up to `attempts` times with jittered exponential backoff."""
    retrying = Retrying(
        stop=stop_after_attempt(max(1, attempts)),
        wait=wait_random_exponential(multiplier=backoff, max=backoff_max),
        retry=retry_if_exception_type(TransientSourceError),
        sleep=sleep,
        reraise=True,
    )
    return retrying(call)

"""The one redaction of secrets from anything printed, logged or reported: URLs, connection strings, arguments.

Both sides import it (the Glue scripts and the Dagster code); it imports nothing outside the standard library.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

MASK = "***"

# Environment variables whose values are secrets wherever they appear (settings.VARIABLES lists the project's own).
SECRET_VARIABLES: tuple[str, ...] = (
    "LAKEHOUSE_DB_PASSWORD", "LAKEHOUSE_API_TOKEN", "SNOWFLAKE_PASSWORD",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
)
# Shorter values are not masked by value: they would mask ordinary text ("a", "on", "1").
MIN_SECRET_LENGTH = 4

_SECRET_WORDS = r"password|passwd|pwd|token|secret|credentials?|signature|(?:api|access|private|client|master|secret)[_-]?key"
# A name that says it holds a secret (`password`, `api_key`, `X-Amz-Security-Token`), not one naming where it is
# kept (`jdbc_password_env`, `api_token_env`).
_SECRET_NAME = re.compile(rf"(?i)^(?:.*[_.-])?(?:{_SECRET_WORDS})$|^(?:key|apikey|auth|authorization)$")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/@:\s]*):([^/@\s]*)@")
_PARAM = re.compile(
    rf"(?i)(?<![A-Za-z0-9_.-])((?:[A-Za-z0-9]+[_.-])*(?:{_SECRET_WORDS})|apikey|key)(\s*=\s*)([^&;,\s'\"]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")


def is_secret_name(name: str) -> bool:
    """True for an argument or parameter name that holds a secret itself (not the name of a variable holding one)."""
    return bool(_SECRET_NAME.match(name.strip().lstrip("-")))


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    """The values of the known secret variables that are set, longest first."""
    env = os.environ if env is None else env
    values = {env[name] for name in SECRET_VARIABLES if len(env.get(name, "")) >= MIN_SECRET_LENGTH}
    return sorted(values, key=len, reverse=True)


def redact(text: Any, env: Mapping[str, str] | None = None) -> str:
    """`text` with URL userinfo passwords, password-like parameters, bearer credentials and secret values masked."""
    out = str(text)
    out = _USERINFO.sub(lambda m: f"{m.group(1)}{m.group(2)}:{MASK}@", out)
    out = _PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", out)
    out = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", out)
    for value in secret_values(env):
        out = out.replace(value, MASK)
    return out


def carries_secret(text: str, env: Mapping[str, str] | None = None) -> bool:
    """True when `text` holds something redact() would mask (a URL password, a token parameter, a secret value)."""
    return redact(text, env) != text


def redact_args(args: Mapping[str, Any], env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Job arguments fit to print: a secret-named argument's value masked, every other value redacted."""
    return {k: MASK if is_secret_name(k) else redact(v, env) for k, v in args.items()}


def redact_value(value: Any, env: Mapping[str, str] | None = None) -> Any:
    """A JSON-like value (dicts, lists, strings, numbers) with every string redacted, the shape kept."""
    if isinstance(value, str):
        return redact(value, env)
    if isinstance(value, Mapping):
        return {k: MASK if isinstance(k, str) and is_secret_name(k) else redact_value(v, env) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(v, env) for v in value]
    return value

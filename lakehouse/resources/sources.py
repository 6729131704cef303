"""How to reach the source systems: the database (JDBC URL) and the CRM API (started in-process locally)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from glue_scripts.common.redact import carries_secret

_EMBEDDED: dict[str, str] = {}
_LOCK = threading.Lock()


class SourceSystems(dg.ConfigurableResource):
    """Connection details for the database and API sources; secrets stay in environment variables."""

    db_url: str
    db_url_env: str = "LAKEHOUSE_DB_URL"
    db_user: str = ""
    db_password_env: str = "LAKEHOUSE_DB_PASSWORD"
    api_url: str = ""
    api_token_env: str = "LAKEHOUSE_API_TOKEN"
    root: str = ""
    _url: str = PrivateAttr(default="")

    def db_job_args(self) -> dict[str, str]:
        """The database job's connection arguments: a URL carrying credentials is passed by the name of its
        variable (`--jdbc_url_env`), so neither Glue's arguments nor any log line holds them."""
        args = {"jdbc_url_env": self.db_url_env} if carries_secret(self.db_url) else {"jdbc_url": self.db_url}
        if self.db_user:
            args.update(jdbc_user=self.db_user, jdbc_password_env=self.db_password_env)
        return args

    def api_base_url(self) -> str:
        """The API's base URL; with none configured, the embedded simulator serving the root's sources."""
        if self.api_url:
            return self.api_url
        with _LOCK:
            if self.root not in _EMBEDDED:
                _EMBEDDED[self.root] = _start_embedded_api(Path(self.root), self.api_token_env)
            return _EMBEDDED[self.root]


def _start_embedded_api(root: Path, token_env: str) -> str:
    """Start the CRM simulator on an ephemeral 127.0.0.1 port for the life of this process."""
    from lakehouse.sources import DEFAULT_API_TOKEN, make_api_server

    # The embedded server and the in-process job must agree on the token: default it for both.
    token = os.environ.setdefault(token_env, DEFAULT_API_TOKEN)
    server = make_api_server(root, host="127.0.0.1", port=0, token=token)
    threading.Thread(target=server.serve_forever, name="embedded-crm-api", daemon=True).start()
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"

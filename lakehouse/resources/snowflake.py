"""Snowflake: dagster-snowflake's SnowflakeResource, or the same resource over fakesnow persisted locally."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster_snowflake import SnowflakeResource


class FakesnowResource(SnowflakeResource):
    """SnowflakeResource whose connections go to fakesnow, persisted under `db_path` (local profile)."""

    db_path: str

    @contextmanager
    def get_connection(self, raw_conn: bool = True) -> Iterator[Any]:  # type: ignore[override]
        """A Snowflake connection answered by fakesnow (DuckDB underneath) for the life of the block."""
        import fakesnow

        with fakesnow.patch(db_path=self.db_path):
            with super().get_connection(raw_conn=raw_conn) as conn:
                yield conn

"""The local instance (dagster.yaml's `instance_class`): Dagster's SQLite storage, with the event log written
through kept-open connections.

Dagster's `SqliteEventLogStorage` opens a new engine and connection for every transaction. A WAL database whose
last connection closes is checkpointed and synced, so each of the ~400 events of a daily run paid one or more
full checkpoints (12-40 ms each on the 2-core machine). `LocalEventLogStorage` keeps one engine per shard (the
index and the most recently used run shards) with a connection pool, so the write-ahead log stays open between
events, and sets `synchronous=NORMAL`, which in WAL mode syncs at checkpoints instead of at every commit: an
application crash loses nothing, a power cut can lose the last events but never corrupts a shard. Files,
schema and layout are Dagster's own, so the UI, the daemon and `dagster` commands read the same instance.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster as dg
import yaml
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log.base import EventHandlerFn
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME, SQLITE_BUSY_TIMEOUT_SECONDS, SqliteEventLogStorage, SqliteEventLogStorageWatchdog,
)
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage
from dagster._serdes import ConfigurableClassData
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from watchdog.events import FileSystemEvent
from watchdog.observers import Observer

# Run shards kept open besides the index: a run worker writes one; the webserver reads many, so the oldest close.
OPEN_RUN_SHARDS = 8


def _normal_sync(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class _ShardWatchdog(SqliteEventLogStorageWatchdog):
    """Dagster's watcher of one run's shard, woken by its write-ahead log too: with a writer that keeps its
    connection open, new events land in `<run>.db-wal` and reach `<run>.db` only at a checkpoint."""

    def __init__(self, storage: SqliteEventLogStorage, run_id: str, callback: EventHandlerFn,
                 cursor: str | None) -> None:
        super().__init__(storage, run_id, callback, cursor)
        self._patterns = [self._log_path, f"{self._log_path}-wal"]

    def on_modified(self, event: FileSystemEvent) -> None:
        """New events in the shard or its log: hand them to the callback."""
        self._process_log()


class LocalEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log (one shard per run plus the index), one kept-open engine per recently used shard."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        super().__init__(base_dir, inst_data)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = create_engine(self.conn_string_for_shard(shard),
                                   connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
            event.listen(engine, "connect", _normal_sync)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
        self._engines[shard] = engine
        run_shards = [name for name in self._engines if name != INDEX_SHARD_NAME]
        for name in run_shards[:-OPEN_RUN_SHARDS]:
            self._engines.pop(name).dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            with self._engine(shard).connect() as conn, conn.begin():
                yield conn

    def watch(self, run_id: str, cursor: str | None, callback: EventHandlerFn) -> None:
        """Dagster's file watch of the run's shard (what the UI's live run view reads), its write-ahead log included."""
        if not self._obs:
            self._obs = Observer()
            self._obs.start()
        watchdog = _ShardWatchdog(self, run_id, callback, cursor)
        self._watchers[run_id][callback] = (watchdog, self._obs.schedule(watchdog, self._base_dir, recursive=True))

    def _close_run_shards(self) -> None:
        with self._db_lock:
            for name in [name for name in self._engines if name != INDEX_SHARD_NAME]:
                self._engines.pop(name).dispose()

    def wipe(self) -> None:
        """Close the run shards before Dagster deletes their files."""
        self._close_run_shards()
        super().wipe()

    def dispose(self) -> None:
        """Close every kept-open shard, then what Dagster's storage holds."""
        self._close_run_shards()
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()
        super().dispose()


class LocalSqliteStorage(DagsterSqliteStorage):
    """Dagster's default SQLite storage under the instance folder, with `LocalEventLogStorage` as its event log."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        super().__init__(base_dir, inst_data)
        self._event_log_storage = LocalEventLogStorage(os.path.join(base_dir, "history", "runs", ""))

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None,
                          config_value: Mapping[str, Any]) -> LocalSqliteStorage:
        """Build from the instance folder the instance class passes as `base_dir`."""
        return cls.from_local(inst_data=inst_data, **config_value)


class LocalInstance(dg.DagsterInstance):
    """The local instance: Dagster's defaults, with `LocalSqliteStorage` as the storage of the instance folder."""

    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        """No settings of its own: dagster.yaml's usual keys configure it."""
        return {}

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, ConfigurableClassData | None]:
        """Dagster's defaults for `base_dir`, the storage replaced."""
        storage = ConfigurableClassData(__name__, LocalSqliteStorage.__name__, yaml.dump({"base_dir": base_dir}))
        return {**InstanceRef.config_defaults(base_dir), "storage": storage}

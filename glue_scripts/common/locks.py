"""One writer per table partition: a run holds a lease object beside what it writes for as long as it runs.

Units of exclusion (`targets`): a bronze job leases each `bronze/<table>/ingestion_date=D` of its days; a
silver_build run leases the whole table, silver and quarantine, because a day's merge rewrites older
partitions of both; a gold_build run leases its mart. The lease is `<table>/_locks/<name>.lock` (gold:
`<gold_path>/_locks/<mart>.lock`, since a mart folder is swapped whole); readers and crawlers skip `_` names.
It is created only if absent (locally `O_CREAT|O_EXCL`, on S3 `PutObject If-None-Match: *`), records the
holder (Dagster run id, Glue run id, host, pid) and an expiry that a heartbeat thread pushes forward. A
second writer polls until the lease is released or expired (then takes it over with a compare-and-swap:
locally under `flock` of the `_locks` folder, on S3 `PutObject If-Match: <etag>`), and after
`--lock_wait_seconds` refuses with `WriterBusy` naming the table, partition and holder. A run whose lease
was taken over while it ran (it stalled past the expiry) fails with `LeaseLost` instead of reporting success.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol, TypeVar

from glue_scripts.common import writer
from glue_scripts.common.days import ingestion_days
from glue_scripts.common.fs import join

LOCKS = "_locks"
NAME = re.compile(r"[A-Za-z0-9_]+")  # a table or mart name that cannot leave its folder
DEFAULT_WAIT_SECONDS = 1800.0
DEFAULT_TTL_SECONDS = 120.0
POLL_SECONDS = 2.0
R = TypeVar("R")


class WriterBusy(RuntimeError):
    """Another live run holds the lease of a partition this run would write."""


class LeaseLost(RuntimeError):
    """This run's lease expired and another run took it over while this run was writing."""


@dataclass(frozen=True)
class Target:
    """One unit of exclusion: its lease object, how messages name it, and the staging folders it owns."""

    lock_path: str
    table: str
    partition: str
    staging: tuple[tuple[str, str | None], ...]  # (table path, staging label; None = every label)


def targets(args: dict[str, str]) -> list[Target]:
    """What a job run with these arguments writes; invalid arguments lease nothing (the job refuses them)."""
    table = args.get("table", "")
    try:
        days = ingestion_days(args)
    except ValueError:
        return []
    if not all(NAME.fullmatch(name) for name in (table, args.get("mart", "")) if name):
        return []
    if args.get("mart") and args.get("gold_path"):
        gold, mart = args["gold_path"], args["mart"]
        partials = join(gold, "_partials", mart)
        return [Target(join(gold, LOCKS, f"{mart}.lock"), f"gold/{mart}", "the whole mart", ((gold, mart), (partials, None)))]
    if table and args.get("silver_path") and args.get("quarantine_path"):
        silver, quarantine = join(args["silver_path"], table), join(args["quarantine_path"], table)
        return [Target(join(silver, LOCKS, "table.lock"), f"silver/{table}", "every partition (silver and quarantine)",
                       ((silver, None), (quarantine, None)))]
    if table and args.get("bronze_path"):
        bronze = join(args["bronze_path"], table)
        return [Target(join(bronze, LOCKS, f"{p}.lock"), f"bronze/{table}", p, ((bronze, p),))
                for p in (f"ingestion_date={day}" for day in days)]
    return []


class LeaseStore(Protocol):
    """Where one lease object lives: create-if-absent and compare-and-swap on an opaque version."""

    def create(self, body: bytes) -> str | None: ...
    def read(self) -> tuple[bytes, str] | None: ...
    def replace(self, body: bytes, version: str) -> str | None: ...
    def delete(self, version: str) -> bool: ...


class LocalLeaseStore:
    """A lease file; every operation runs under `flock` of its `_locks` folder, the version is the body's hash."""

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)

    @contextmanager
    def _guard(self) -> Iterator[None]:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        fd = os.open(os.path.dirname(self.path), os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _current(self) -> tuple[bytes, str] | None:
        try:
            with open(self.path, "rb") as handle:
                body = handle.read()
        except FileNotFoundError:
            return None
        return body, hashlib.sha256(body).hexdigest()

    def create(self, body: bytes) -> str | None:
        with self._guard():
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return None
            with os.fdopen(fd, "wb") as handle:
                handle.write(body)
            return hashlib.sha256(body).hexdigest()

    def read(self) -> tuple[bytes, str] | None:
        with self._guard():
            return self._current()

    def replace(self, body: bytes, version: str) -> str | None:
        with self._guard():
            current = self._current()
            if current is None or current[1] != version:
                return None
            temporary = f"{self.path}.{os.getpid()}.{threading.get_ident()}.tmp"
            with open(temporary, "wb") as handle:
                handle.write(body)
            os.replace(temporary, self.path)
            return hashlib.sha256(body).hexdigest()

    def delete(self, version: str) -> bool:
        with self._guard():
            current = self._current()
            if current is None or current[1] != version:
                return False
            os.remove(self.path)
            return True


class S3LeaseStore:
    """A lease object: `PutObject If-None-Match: *` creates it, `If-Match: <etag>` replaces or deletes it.

    The condition goes in as a header added before signing rather than as the `IfNoneMatch`/`IfMatch`
    parameters, so the botocore preinstalled on a Glue runtime works even if it predates them (botocore 1.35).
    """

    def __init__(self, uri: str) -> None:
        import boto3
        from botocore.exceptions import ClientError

        self.client_error = ClientError
        self.bucket, _, self.key = uri.removeprefix("s3://").partition("/")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.s3 = boto3.client("s3", region_name=region)
        self._condition: dict[str, str] = {}
        for operation in ("PutObject", "DeleteObject"):
            self.s3.meta.events.register(f"before-sign.s3.{operation}", self._add_condition)

    def _add_condition(self, request: Any, **_: Any) -> None:
        for name, value in self._condition.items():
            request.headers[name] = value

    def _conditional(self, condition: dict[str, str], call: Callable[[], R]) -> R | None:
        self._condition = condition
        try:
            return call()
        except self.client_error as error:
            if _conflict(error):
                return None
            raise
        finally:
            self._condition = {}

    def create(self, body: bytes) -> str | None:
        put = self._conditional({"If-None-Match": "*"}, lambda: self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=body))
        return None if put is None else str(put["ETag"])

    def read(self) -> tuple[bytes, str] | None:
        try:
            got = self.s3.get_object(Bucket=self.bucket, Key=self.key)
        except self.s3.exceptions.NoSuchKey:
            return None
        return got["Body"].read(), str(got["ETag"])

    def replace(self, body: bytes, version: str) -> str | None:
        put = self._conditional({"If-Match": version}, lambda: self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=body))
        return None if put is None else str(put["ETag"])

    def delete(self, version: str) -> bool:
        deleted = self._conditional({"If-Match": version}, lambda: self.s3.delete_object(Bucket=self.bucket, Key=self.key))
        return deleted is not None


def _conflict(error: Any) -> bool:
    """A failed precondition, a concurrent conditional write (409) or a vanished object: the race was lost."""
    return error.response.get("Error", {}).get("Code") in {"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "404"}


def store_for(lock_path: str) -> LeaseStore:
    """The lease store of a local path or an s3:// URI."""
    return S3LeaseStore(lock_path) if lock_path.startswith("s3://") else LocalLeaseStore(lock_path)


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")


class Lease:
    """The lease of one target held by one run: acquire, heartbeat, release."""

    def __init__(self, target: Target, owner: str, job_run: str, ttl: float, store: LeaseStore | None = None) -> None:
        self.target, self.owner, self.job_run, self.ttl = target, owner, job_run, ttl
        self.store = store or store_for(target.lock_path)
        self.version: str | None = None
        self.acquired_at = 0.0
        self.lost = False
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def _body(self) -> bytes:
        return json.dumps({
            "owner": self.owner, "job_run": self.job_run, "host": socket.gethostname(), "pid": os.getpid(),
            "table": self.target.table, "partition": self.target.partition,
            "acquired_at": self.acquired_at, "expires_at": time.time() + self.ttl,
        }).encode()

    def acquire(self, wait: float, poll: float = POLL_SECONDS) -> None:
        """Take the lease, waiting up to `wait` seconds for a live holder; take over an expired one."""
        deadline, announced = time.monotonic() + wait, False
        while True:
            self.acquired_at = time.time()
            mine = self._body()
            self.version = self.store.create(mine)
            if self.version is not None:
                return
            current = self.store.read()
            if current is None:
                continue
            body, version = current
            if body == mine:  # a create retried after a lost response found its own lease
                self.version = version
                return
            holder = _parse(body)
            if float(holder.get("expires_at", 0)) < time.time():
                self.version = self.store.replace(self._body(), version)
                if self.version is not None:
                    return
                continue
            if time.monotonic() >= deadline:
                raise WriterBusy(self.refusal(holder, wait))
            if not announced:
                announced = True
                print(f"waiting up to {wait:g} s for the writer lease: {self.refusal(holder, 0)}", file=sys.stderr)
            time.sleep(max(0.0, min(poll, deadline - time.monotonic())))

    def refusal(self, holder: dict[str, Any], waited: float) -> str:
        """The one message a refused writer gets: what is busy, who holds it, how to clear a dead holder's lease."""
        t = self.target
        return (f"{t.table} {t.partition} is being written by run {holder.get('owner', '?')} "
                f"(job run {holder.get('job_run') or '?'}, host {holder.get('host', '?')}, pid {holder.get('pid', '?')}) "
                f"since {_stamp(float(holder.get('acquired_at', 0)))}; waited {waited:g} s. Retry when that run ends; "
                f"its lease expires at {_stamp(float(holder.get('expires_at', 0)))} if it stops heartbeating, or delete "
                f"{t.lock_path} once you are sure it is dead.")

    def heartbeat(self) -> bool:
        """Push the expiry forward; False (and `lost`) if another run took the lease over."""
        version = self.store.replace(self._body(), self.version or "")
        if version is None:
            self.lost = True
            return False
        self.version = version
        return True

    def start_heartbeat(self) -> None:
        """Heartbeat every quarter of the TTL in a daemon thread until `release`."""
        def beat() -> None:
            while not self._stop.wait(self.ttl / 4) and self.heartbeat():
                pass

        self._beat = threading.Thread(target=beat, name=f"lease {self.target.lock_path}", daemon=True)
        self._beat.start()

    def release(self) -> None:
        """Stop heartbeating and delete the lease if it is still ours."""
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
        if not self.lost and self.version is not None and not self.store.delete(self.version):
            self.lost = True

    def drop_stale_staging(self) -> list[str]:
        """Delete staging this target owns that was left before the lease was taken (by a crashed run)."""
        return [p for table, label in self.target.staging for p in writer.drop_stale_staging(table, label, self.acquired_at)]


def _parse(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@contextmanager
def hold(target: Target, owner: str, job_run: str = "", *, wait: float = DEFAULT_WAIT_SECONDS,
         ttl: float = DEFAULT_TTL_SECONDS, poll: float = POLL_SECONDS) -> Iterator[Lease]:
    """Hold `target`'s lease for the block; released on any exit, `LeaseLost` if it was taken over meanwhile."""
    lease = Lease(target, owner, job_run, ttl)
    lease.acquire(wait, poll)
    lease.start_heartbeat()
    try:
        yield lease
    finally:
        lease.release()
    if lease.lost:
        raise LeaseLost(f"the lease on {target.table} {target.partition} ({target.lock_path}) expired and another run "
                        "took it over while this run wrote; re-run this partition")


@contextmanager
def exclusive(args: dict[str, str]) -> Iterator[list[Lease]]:
    """Hold every lease a run with `args` needs (in a fixed order), after dropping the stale staging they own."""
    owner = args.get("run_id") or args.get("JOB_RUN_ID") or "unknown"
    wait = float(args.get("lock_wait_seconds") or DEFAULT_WAIT_SECONDS)
    ttl = float(args.get("lock_ttl_seconds") or DEFAULT_TTL_SECONDS)
    with ExitStack() as stack:
        leases = [stack.enter_context(hold(t, owner, args.get("JOB_RUN_ID", ""), wait=wait, ttl=ttl))
                  for t in sorted(targets(args), key=lambda t: t.lock_path)]
        for lease in leases:
            lease.drop_stale_staging()
        yield leases


def run_exclusive(run: Callable[[Any, dict[str, str]], R], spark: Any, args: dict[str, str]) -> R:
    """Run a Glue job's `run(spark, args)` while holding the leases of everything it writes."""
    with exclusive(args):
        return run(spark, args)

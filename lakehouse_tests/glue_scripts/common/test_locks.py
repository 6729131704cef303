"""locks: one writer per partition, locally and on S3 (moto): refusal message, waiting, expiry, release, stale staging."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow.fs as pafs
import pytest

from glue_scripts.common import writer
from glue_scripts.common.fs import filesystem_for, join
from glue_scripts.common.locks import Lease, LeaseLost, Target, WriterBusy, exclusive, hold, store_for, targets

DAY = "2024-01-02"


def silver_args(root: str, table: str = "orders") -> dict[str, str]:
    """silver_build arguments of one day under `root`."""
    return {"table": table, "ingestion_date": DAY, "bronze_path": join(root, "bronze"),
            "silver_path": join(root, "silver"), "quarantine_path": join(root, "quarantine"), "run_id": "run-a"}


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.aws)])
def root(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A warehouse root: a local folder, or a fresh bucket on the session's moto server."""
    if request.param == "local":
        yield str(tmp_path)
        return
    import boto3

    endpoint = request.getfixturevalue("moto_endpoint")
    for name, value in {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    bucket = f"locks-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=bucket)
    yield f"s3://{bucket}"


def holder_of(target: Target) -> str | None:
    """The run id recorded in the target's lease object, None if there is none."""
    current = store_for(target.lock_path).read()
    return None if current is None else json.loads(current[0])["owner"]


def test_each_job_leases_what_it_writes() -> None:
    bronze = targets({"table": "db__orders", "ingestion_date": "2024-01-01", "ingestion_date_end": "2024-01-02",
                      "bronze_path": "/w/bronze", "quarantine_path": "/w/quarantine", "run_id": "r"})
    assert [(t.table, t.partition, t.lock_path) for t in bronze] == [
        ("bronze/db__orders", f"ingestion_date={d}", f"/w/bronze/db__orders/_locks/ingestion_date={d}.lock")
        for d in ("2024-01-01", "2024-01-02")]
    (silver,) = targets(silver_args("/w"))
    assert silver.lock_path == "/w/silver/orders/_locks/table.lock"
    assert silver.staging == (("/w/silver/orders", None), ("/w/quarantine/orders", None))
    (gold,) = targets({"mart": "daily_revenue", "ingestion_date": DAY, "silver_path": "/w/silver", "gold_path": "/w/gold"})
    assert (gold.table, gold.lock_path) == ("gold/daily_revenue", "/w/gold/_locks/daily_revenue.lock")
    assert targets({**silver_args("/w"), "ingestion_date": "2024-13-01"}) == []
    assert targets(silver_args("/w", table="../orders")) == []


def test_second_writer_is_refused_with_the_table_partition_and_holder(root: str) -> None:
    (target,) = targets(silver_args(root))
    with hold(target, "run-a", "jr-a", wait=0):
        with pytest.raises(WriterBusy) as refused:
            Lease(target, "run-b", "jr-b", ttl=30).acquire(wait=0.2, poll=0.05)
        assert holder_of(target) == "run-a"
    message = str(refused.value)
    assert message.startswith("silver/orders every partition (silver and quarantine) is being written by run run-a "
                              "(job run jr-a, host ")
    assert "waited 0.2 s" in message and f"delete {target.lock_path} once you are sure it is dead" in message
    assert holder_of(target) is None


def test_waiting_writer_takes_the_lease_once_the_holder_releases(root: str) -> None:
    (target,) = targets(silver_args(root))
    first = Lease(target, "run-a", "", ttl=30)
    first.acquire(wait=0)
    events: list[str] = []

    def second() -> None:
        with hold(target, "run-b", wait=30, poll=0.05):
            events.append(f"run-b holds, recorded holder {holder_of(target)}")

    waiter = threading.Thread(target=second)
    waiter.start()
    time.sleep(0.3)
    assert waiter.is_alive(), "the second writer must wait while the first holds the lease"
    events.append("run-a releases")
    first.release()
    waiter.join(timeout=30)
    assert events == ["run-a releases", "run-b holds, recorded holder run-b"]
    assert holder_of(target) is None


def test_expired_lease_of_a_crashed_run_is_taken_over(root: str) -> None:
    (target,) = targets(silver_args(root))
    crashed = Lease(target, "run-crashed", "", ttl=0.3)
    crashed.acquire(wait=0)  # no heartbeat and no release: the process died
    with hold(target, "run-b", wait=10, ttl=30, poll=0.05):
        assert holder_of(target) == "run-b"
        assert not crashed.heartbeat() and crashed.lost
        crashed.release()
        assert holder_of(target) == "run-b", "a late release must not delete the new holder's lease"
    assert holder_of(target) is None


def test_lease_is_released_when_the_job_raises(root: str) -> None:
    (target,) = targets(silver_args(root))
    with pytest.raises(ValueError, match="job failed"), hold(target, "run-a", wait=0):
        raise ValueError("job failed")
    assert holder_of(target) is None
    with hold(target, "run-b", wait=0):
        assert holder_of(target) == "run-b"


def test_run_whose_lease_was_taken_over_fails(root: str) -> None:
    (target,) = targets(silver_args(root))
    with pytest.raises(LeaseLost, match="another run took it over while this run wrote"):
        with hold(target, "run-a", wait=0, ttl=30) as lease:
            store = store_for(target.lock_path)
            assert store.replace(json.dumps({"owner": "run-b", "expires_at": time.time() + 30}).encode(), lease.version or "")
    assert holder_of(target) == "run-b"


def _stage(table: str, label: str) -> str:
    fs, path = filesystem_for(join(table, writer.STAGING, f"{label}-{uuid.uuid4().hex}", "part-00000.parquet"))
    fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
    with fs.open_output_stream(path) as out:
        out.write(b"partial")
    return path.rsplit("/", 1)[0]


def _exists(root: str, path: str) -> bool:
    return filesystem_for(root)[0].get_file_info(path).type != pafs.FileType.NotFound


def test_leases_drop_the_stale_staging_they_own_and_only_that(root: str) -> None:
    table = join(root, "bronze", "db__orders")
    crashed = _stage(table, f"ingestion_date={DAY}")
    other_day = _stage(table, "ingestion_date=2024-01-05")
    args = {"table": "db__orders", "ingestion_date": DAY, "bronze_path": join(root, "bronze"), "run_id": "run-a"}
    with exclusive(args) as leases:
        assert [holder_of(lease.target) for lease in leases] == ["run-a"]
        assert not _exists(root, crashed) and _exists(root, other_day)
    assert holder_of(leases[0].target) is None


def test_staging_written_after_the_lease_was_taken_is_kept(tmp_path: Path) -> None:
    table = str(tmp_path / "silver" / "orders")
    old, new = _stage(table, "ingestion_date=2024-01-01"), _stage(table, "ingestion_date=2024-01-02")
    now = time.time()
    os.utime(old, (now - 60, now - 60))
    os.utime(os.path.join(old, "part-00000.parquet"), (now - 60, now - 60))
    assert writer.drop_stale_staging(table, None, now - 1) == [old]
    assert os.path.isdir(new) and not os.path.exists(old)


HOLDER = """
import sys, time
from glue_scripts.common.locks import hold, targets
from lakehouse_tests.glue_scripts.common.test_locks import silver_args
with hold(targets(silver_args(sys.argv[1]))[0], "run-killed", wait=0, ttl=1.0):
    print("held", flush=True)
    time.sleep(3600)
"""


def test_killed_holder_blocks_only_until_its_lease_expires(tmp_path: Path) -> None:
    (target,) = targets(silver_args(str(tmp_path)))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(WriterBusy, match="by run run-killed"):
            Lease(target, "run-b", "", ttl=30).acquire(wait=0)
    finally:
        holder.kill()
        holder.wait(timeout=30)
    with hold(target, "run-b", wait=30, poll=0.1):
        assert holder_of(target) == "run-b"

"""The one Parquet write path: stage a partition beside the table, then swap it in whole.

A partition is always either the complete old data or the complete new data. Readers skip the
`_staging` and `_trash` folders because their names start with an underscore (Hive convention).
`remove` drops a partition whole the same way (set aside into `_trash`, then deleted).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from glue_scripts.common.fs import filesystem_for, join

STAGING = "_staging"
TRASH = "_trash"
REMOVED = "removed~"  # prefix of a trash entry set aside by `remove`: recover deletes it instead of restoring it


@dataclass(frozen=True)
class PartitionWrite:
    """Where a write was staged and where it lands once committed."""

    table_path: str
    partition: str
    staging_path: str

    @property
    def final_path(self) -> str:
        """The partition folder readers see, e.g. `<table>/ingestion_date=2024-01-01`."""
        return join(self.table_path, self.partition) if self.partition else self.table_path


def partition_name(**values: str) -> str:
    """Hive partition folder name for the given column values, in the given order."""
    return "/".join(f"{k}={v}" for k, v in values.items())


def begin(table_path: str, partition: str) -> PartitionWrite:
    """Reserve a fresh staging folder for one partition write; partition "" swaps the whole table."""
    if not partition:
        parent, _, name = table_path.rstrip("/").rpartition("/")
        table_path, partition = parent, name
    token = uuid.uuid4().hex
    label = partition.replace("/", "__")
    return PartitionWrite(table_path, partition, join(table_path, STAGING, f"{label}-{token}"))


def commit(write: PartitionWrite) -> None:
    """Swap the staged folder in for the partition, replacing whatever was there."""
    fs, staging = filesystem_for(write.staging_path)
    _, final = filesystem_for(write.final_path)
    if isinstance(fs, pafs.LocalFileSystem):
        _commit_local(staging, final, filesystem_for(join(write.table_path, TRASH))[1])
    else:
        _commit_object_store(fs, staging, final)


def abort(write: PartitionWrite) -> None:
    """Remove a staged folder that will not be committed."""
    fs, staging = filesystem_for(write.staging_path)
    if fs.get_file_info(staging).type != pafs.FileType.NotFound:
        fs.delete_dir(staging)


def write_sidecar(write: PartitionWrite, name: str, content: bytes) -> None:
    """Stage a small non-data file (its name must start with `_`, so readers skip it) beside a partition's data."""
    if not name.startswith("_") or "/" in name:
        raise ValueError(f"sidecar file names start with '_' and have no folder: {name!r}")
    fs, staging = filesystem_for(write.staging_path)
    fs.create_dir(staging, recursive=True)
    with fs.open_output_stream(staging + "/" + name) as out:
        out.write(content)


def remove(table_path: str, partition: str) -> None:
    """Drop one partition whole: renamed into `_trash` and deleted locally, its objects deleted on S3."""
    fs, final = filesystem_for(join(table_path, partition))
    if fs.get_file_info(final).type == pafs.FileType.NotFound:
        return
    if isinstance(fs, pafs.LocalFileSystem):
        trash_root = filesystem_for(join(table_path, TRASH))[1]
        os.makedirs(trash_root, exist_ok=True)
        old = os.path.join(trash_root, f"{REMOVED}{partition.replace('/', '__')}-{uuid.uuid4().hex}")
        os.replace(final, old)
        shutil.rmtree(old, ignore_errors=True)
    else:
        fs.delete_dir(final)


def drop_stale_staging(table_path: str, label: str | None, before: float) -> list[str]:
    """Delete the staging folders of partition `label` (None: of every partition) last written before `before`
    (epoch seconds), locally and on S3; return their paths. Only the holder of the writer lease of what they
    stage may call it (glue_scripts/common/locks.py): no live writer then owns a staging folder of that label."""
    fs, root = filesystem_for(join(table_path, STAGING))
    dropped = []
    for entry in fs.get_file_info(pafs.FileSelector(root, allow_not_found=True)):
        if entry.type != pafs.FileType.Directory or (label is not None and entry.base_name.rsplit("-", 1)[0] != label):
            continue
        inside = fs.get_file_info(pafs.FileSelector(entry.path, recursive=True))
        times = [i.mtime.timestamp() for i in [entry, *inside] if i.mtime is not None]
        if max(times, default=0.0) < before:
            fs.delete_dir(entry.path)
            dropped.append(entry.path)
    return dropped


def recover(table_path: str) -> None:
    """Restore partitions whose swap was interrupted between its two renames (local only: S3 commits copy)."""
    fs, table = filesystem_for(table_path)
    if not isinstance(fs, pafs.LocalFileSystem):
        return
    trash = os.path.join(table, TRASH)
    for entry in sorted(os.listdir(trash)) if os.path.isdir(trash) else []:
        if entry.startswith(REMOVED):
            shutil.rmtree(os.path.join(trash, entry), ignore_errors=True)
            continue
        label = entry.rsplit("-", 1)[0]
        final = os.path.join(table, label.replace("__", "/"))
        if not os.path.exists(final):
            os.makedirs(os.path.dirname(final), exist_ok=True)
            os.replace(os.path.join(trash, entry), final)
        else:
            shutil.rmtree(os.path.join(trash, entry), ignore_errors=True)


def _commit_local(staging: str, final: str, trash_root: str) -> None:
    os.makedirs(os.path.dirname(final), exist_ok=True)
    if not os.path.isdir(staging):
        os.makedirs(staging)
    old = None
    if os.path.exists(final):
        os.makedirs(trash_root, exist_ok=True)
        rel = os.path.relpath(final, os.path.dirname(trash_root)).replace(os.sep, "__")
        old = os.path.join(trash_root, f"{rel}-{uuid.uuid4().hex}")
        os.replace(final, old)
    os.replace(staging, final)
    if old:
        shutil.rmtree(old, ignore_errors=True)


def _commit_object_store(fs: pafs.FileSystem, staging: str, final: str) -> None:
    """Copy staged objects in under fresh names, then delete the old ones (S3 has no rename)."""
    old = [i.path for i in fs.get_file_info(pafs.FileSelector(final, allow_not_found=True, recursive=True)) if i.is_file]
    new = [i.path for i in fs.get_file_info(pafs.FileSelector(staging, allow_not_found=True, recursive=True)) if i.is_file]
    for path in new:
        fs.copy_file(path, final + "/" + os.path.relpath(path, staging))
    landed = {final + "/" + os.path.relpath(p, staging) for p in new}
    for path in old:
        if path not in landed:
            fs.delete_file(path)
    fs.delete_dir_contents(staging, missing_dir_ok=True)


def write_arrow(table: pa.Table, table_path: str, partition: str, file_name: str = "part-00000.parquet",
                sidecars: dict[str, bytes] | None = None) -> str:
    """Write an Arrow table (and any `_`-named `sidecars` files) as one partition through the staged swap;
    return the final folder."""
    return write_batches(table.schema, [table], table_path, partition, file_name, sidecars)


def write_batches(schema: pa.Schema, parts: Iterable[pa.RecordBatch | pa.Table], table_path: str, partition: str,
                  file_name: str = "part-00000.parquet", sidecars: dict[str, bytes] | None = None) -> str:
    """Stream record batches (or tables) of `schema` into one file of a staged partition, then swap it in whole:
    what `write_arrow` does, with only one batch in memory at a time. An error from `parts` aborts the write."""
    write = begin(table_path, partition)
    fs, staging = filesystem_for(write.staging_path)
    try:
        fs.create_dir(staging, recursive=True)
        with pq.ParquetWriter(staging + "/" + file_name, schema, filesystem=fs, compression="zstd") as out:
            for part in parts:
                out.write(part)
        for name, content in (sidecars or {}).items():
            write_sidecar(write, name, content)
        commit(write)
    except BaseException:
        abort(write)
        raise
    return write.final_path


def parquet_stats(path: str) -> dict[str, int]:
    """Rows (from footers, no data read), bytes and file count of the Parquet files under `path`."""
    fs, root = filesystem_for(path)
    infos = [
        i
        for i in fs.get_file_info(pafs.FileSelector(root, allow_not_found=True, recursive=True))
        if i.is_file and i.base_name.endswith(".parquet") and not i.base_name.startswith((".", "_"))
    ]
    rows = 0
    for info in infos:
        with fs.open_input_file(info.path) as handle:
            rows += pq.ParquetFile(handle).metadata.num_rows
    return {"rows": rows, "bytes": sum(i.size for i in infos), "files": len(infos)}

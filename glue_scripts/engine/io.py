"""Engine-side reading: a table's Hive partitions listed once, registered as a relation by literal file names.

Files are always named, never globbed: the listing decides what a job reads (and what a partial's signature
covers), and a folder or file name is data (quoted, never interpreted). Folders and files whose names start with
`_` or `.` (staging, trash, sidecars) are skipped. Writing goes through `Engine.write` (the one write path).
"""

from __future__ import annotations

from collections import defaultdict

import pyarrow.fs as pafs
import pyarrow.parquet as pq

from glue_scripts.common.fs import filesystem_for, join
from glue_scripts.engine import Engine
from glue_scripts.engine.dialect import Columns

PARTITION = "ingestion_date"

FileEntry = tuple[str, int, int]  # (path inside the partition folder, size, mtime_ns)


def partition_files(table_path: str) -> dict[str, list[FileEntry]]:
    """The Parquet data files of every `ingestion_date=<D>` partition of a table: day -> sorted entries."""
    fs, root = filesystem_for(table_path)
    files: dict[str, list[FileEntry]] = defaultdict(list)
    for info in fs.get_file_info(pafs.FileSelector(root, allow_not_found=True, recursive=True)):
        parts = info.path[len(root):].strip("/").split("/")
        if not info.is_file or len(parts) < 2 or not parts[0].startswith(f"{PARTITION}="):
            continue
        if any(p.startswith(("_", ".")) for p in parts) or not info.base_name.endswith(".parquet"):
            continue
        files[parts[0].split("=", 1)[1]].append(("/".join(parts[1:]), int(info.size or 0), int(info.mtime_ns or 0)))
    return {day: sorted(entries) for day, entries in files.items()}


def folder_files(folder: str) -> list[str]:
    """The Parquet data files under one unpartitioned folder (such as a written mart), sorted."""
    fs, root = filesystem_for(folder)
    prefix = folder[: len(folder) - len(root)] if folder.endswith(root) else ""
    infos = fs.get_file_info(pafs.FileSelector(root, allow_not_found=True, recursive=True))
    return sorted(prefix + i.path for i in infos if i.is_file and i.base_name.endswith(".parquet")
                  and not any(p.startswith(("_", ".")) for p in i.path[len(root):].strip("/").split("/")))


def file_paths(table_path: str, listing: dict[str, list[FileEntry]], days: list[str] | None = None) -> list[str]:
    """Full paths of the listed files of `days` (every listed day when None), in day order."""
    chosen = sorted(listing) if days is None else days
    return [join(table_path, f"{PARTITION}={day}", name) for day in chosen for name, _, _ in listing.get(day, [])]


def register_table(engine: Engine, name: str, table_path: str, columns: Columns,
                   days: list[str] | None = None) -> str:
    """Register the current files of a partitioned table (or of its `days`) as relation `name`."""
    files = file_paths(table_path, partition_files(table_path), days)
    return engine.register(name, table_path, files, columns)


def file_columns(paths: list[str]) -> set[str]:
    """The column names the Parquet files at `paths` carry (their union; read from the footers only)."""
    names: set[str] = set()
    for path in paths:
        fs, local = filesystem_for(path)
        names.update(pq.read_schema(local, filesystem=fs).names)
    return names


def register_present(engine: Engine, name: str, table_path: str, day: str,
                     wanted: dict[str, str]) -> tuple[str, set[str]]:
    """Register partition `day` of a table with those of the `wanted` columns (name -> type) its files carry;
    return the relation and those columns. A table whose columns vary by day (bronze drift) reads this way."""
    files = file_paths(table_path, partition_files(table_path), [day])
    present = file_columns(files)
    columns = tuple((c, kind) for c, kind in wanted.items() if c in present)
    return engine.register(name, table_path, files, columns), {c for c, _ in columns}

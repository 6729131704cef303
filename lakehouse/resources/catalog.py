"""The data catalog: what each layer's tables hold (columns, types, location, partitions).

Locally a file-backed catalog filled by discovery, as a crawler would; on AWS the Glue Data Catalog
kept current by the layer's Glue crawler, with partitions registered directly when it is faster.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from glue_scripts.common.fs import filesystem_for


@dataclass(frozen=True)
class TableEntry:
    """One catalogued table: database, name, location, columns as (name, type), partition keys and values."""

    database: str
    name: str
    location: str
    columns: list[tuple[str, str]]
    partition_keys: list[str]
    partitions: list[str]


def discover(database: str, name: str, location: str) -> TableEntry | None:
    """Describe the Parquet table under `location` from its files, as a crawler would; None if empty."""
    fs, path = filesystem_for(location)
    if fs.get_file_info(path).type == pafs.FileType.NotFound:
        return None
    dataset = pads.dataset(
        path, filesystem=fs, format="parquet", partitioning="hive", exclude_invalid_files=True,
        ignore_prefixes=[".", "_"],
    )
    files = dataset.files
    if not files:
        return None
    partition_dirs = sorted({os.path.relpath(os.path.dirname(f), path).replace(os.sep, "/") for f in files})
    partitions = [p for p in partition_dirs if p != "."]
    keys = [kv.split("=", 1)[0] for kv in partitions[0].split("/")] if partitions else []
    schema = pa.unify_schemas([pq.read_schema(f, filesystem=fs) for f in files], promote_options="permissive")
    columns = [(f.name, _athena_type(f.type)) for f in schema if f.name not in keys]
    return TableEntry(database, name, location, columns, keys, partitions)


def _athena_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_decimal(arrow_type):
        return f"decimal({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    if pa.types.is_list(arrow_type):
        return f"array<{_athena_type(arrow_type.value_type)}>"
    names = {"int64": "bigint", "int32": "int", "int16": "smallint", "int8": "tinyint", "bool": "boolean",
             "double": "double", "float": "float", "date32[day]": "date", "large_string": "string",
             "string": "string"}
    return names.get(str(arrow_type), str(arrow_type))


class Catalog(dg.ConfigurableResource):
    """Keeps a layer's catalog database current after a write, and lists what it holds."""

    def refresh(self, context: dg.AssetExecutionContext | None, database: str, name: str, location: str) -> TableEntry | None:
        """Bring one table's entry up to date with what its location holds."""
        raise NotImplementedError

    def tables(self, database: str | None = None) -> list[TableEntry]:
        """Every catalogued table, optionally of one database."""
        raise NotImplementedError


class LocalCatalog(Catalog):
    """A file-backed catalog: one JSON document per table under `<root>/catalog/<database>/`."""

    path: str

    def refresh(self, context: dg.AssetExecutionContext | None, database: str, name: str, location: str) -> TableEntry | None:
        """Discover the table from its files and store its entry atomically."""
        entry = discover(database, name, location)
        target = Path(self.path) / database / f"{name}.json"
        if entry is None:
            target.unlink(missing_ok=True)
            return None
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".tmp-{os.getpid()}")
        tmp.write_text(json.dumps(asdict(entry), indent=1))
        os.replace(tmp, target)
        return entry

    def tables(self, database: str | None = None) -> list[TableEntry]:
        """Every stored entry, sorted by database and name."""
        root = Path(self.path)
        pattern = f"{database}/*.json" if database else "*/*.json"
        return [_load_entry(p) for p in sorted(root.glob(pattern))]


def _load_entry(path: Path) -> TableEntry:
    data: dict[str, Any] = json.loads(path.read_text())
    data["columns"] = [tuple(c) for c in data["columns"]]
    return TableEntry(**data)


class GlueCatalog(Catalog):
    """The Glue Data Catalog, kept current by one crawler per layer (`<prefix><database>-crawler`)."""

    region: str
    endpoint_url: str = ""
    crawler_prefix: str = "lakehouse-"
    crawler_timeout_seconds: float = 900.0
    poll_seconds: float = 5.0

    def _glue(self) -> Any:
        import boto3

        kwargs: dict[str, Any] = {"region_name": self.region}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        return boto3.client("glue", **kwargs)

    def refresh(self, context: dg.AssetExecutionContext | None, database: str, name: str, location: str) -> TableEntry | None:
        """Run the layer's crawler (waiting out one already running), then read the table back."""
        glue = self._glue()
        crawler = f"{self.crawler_prefix}{database}-crawler"
        self._wait_idle(glue, crawler)
        try:
            glue.start_crawler(Name=crawler)
        except glue.exceptions.CrawlerRunningException:
            if context:
                context.log.info(f"crawler {crawler} already running; waiting for it")
        self._wait_idle(glue, crawler)
        return next((t for t in self.tables(database) if t.name == name), None)

    def _wait_idle(self, glue: Any, crawler: str) -> None:
        deadline = time.monotonic() + self.crawler_timeout_seconds
        while glue.get_crawler(Name=crawler)["Crawler"]["State"] != "READY":
            if time.monotonic() > deadline:
                raise TimeoutError(f"Glue crawler {crawler} did not finish within {self.crawler_timeout_seconds:.0f}s")
            time.sleep(self.poll_seconds)

    def tables(self, database: str | None = None) -> list[TableEntry]:
        """Tables and partitions as the Glue Data Catalog holds them."""
        glue = self._glue()
        databases = [database] if database else [d["Name"] for d in glue.get_databases()["DatabaseList"]]
        entries = []
        for db in databases:
            for page in glue.get_paginator("get_tables").paginate(DatabaseName=db):
                for t in page["TableList"]:
                    sd = t.get("StorageDescriptor", {})
                    keys = [k["Name"] for k in t.get("PartitionKeys", [])]
                    parts = [
                        "/".join(f"{k}={v}" for k, v in zip(keys, p["Values"]))
                        for pp in glue.get_paginator("get_partitions").paginate(DatabaseName=db, TableName=t["Name"])
                        for p in pp["Partitions"]
                    ]
                    cols = [(c["Name"], c["Type"]) for c in sd.get("Columns", [])]
                    entries.append(TableEntry(db, t["Name"], sd.get("Location", ""), cols, keys, sorted(parts)))
        return sorted(entries, key=lambda e: (e.database, e.name))

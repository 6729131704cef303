"""The data catalog: what each layer's tables hold (columns, types, location, partitions).

Locally a file-backed catalog filled by discovery, as a crawler would; on AWS the Glue Data Catalog
kept current by the layer's Glue crawler, with partitions registered directly when it is faster.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import dagster as dg
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from glue_scripts.common.fs import filesystem_for
from lakehouse.resources.catalog_files import TableEntry, read_entries, remove_entry, write_entry


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
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return f"array<{_athena_type(arrow_type.value_type)}>"
    if pa.types.is_map(arrow_type):
        return f"map<{_athena_type(arrow_type.key_type)},{_athena_type(arrow_type.item_type)}>"
    if pa.types.is_struct(arrow_type):
        return "struct<" + ",".join(f"{f.name}:{_athena_type(f.type)}" for f in arrow_type) + ">"
    if pa.types.is_dictionary(arrow_type):
        return _athena_type(arrow_type.value_type)
    names = {"int64": "bigint", "int32": "int", "int16": "smallint", "int8": "tinyint", "bool": "boolean",
             "double": "double", "float": "float", "date32[day]": "date", "large_string": "string",
             "string": "string", "binary": "binary", "large_binary": "binary"}
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
        if entry is None:
            remove_entry(Path(self.path), database, name)
            return None
        write_entry(Path(self.path), entry)
        return entry

    def tables(self, database: str | None = None) -> list[TableEntry]:
        """Every stored entry, sorted by database and name."""
        return read_entries(Path(self.path), database)


PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARTITION_BATCH = 100
PARTITION_DELETE_BATCH = 25


class CrawlerTimeout(TimeoutError):
    """A Glue crawler did not finish within the configured time."""


class CatalogError(RuntimeError):
    """The Glue Data Catalog refused a table or partition, or a crawl failed."""


def _storage(location: str, columns: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "Columns": [{"Name": n, "Type": t} for n, t in columns],
        "Location": location.rstrip("/") + "/",
        "InputFormat": PARQUET_INPUT,
        "OutputFormat": PARQUET_OUTPUT,
        "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE, "Parameters": {"serialization.format": "1"}},
    }


def _table_input(entry: TableEntry) -> dict[str, Any]:
    return {
        "Name": entry.name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE"},
        # Hive partition values are strings in the path; a crawler types them the same way.
        "PartitionKeys": [{"Name": key, "Type": "string"} for key in entry.partition_keys],
        "StorageDescriptor": _storage(entry.location, entry.columns),
    }


def _describes(table: dict[str, Any]) -> tuple[Any, ...]:
    sd = table.get("StorageDescriptor", {})
    return (
        [(c["Name"], c["Type"]) for c in sd.get("Columns", [])],
        [(k["Name"], k["Type"]) for k in table.get("PartitionKeys", [])],
        sd.get("Location"), sd.get("InputFormat"), sd.get("OutputFormat"),
        sd.get("SerdeInfo", {}).get("SerializationLibrary"),
    )


def _values(partition: str) -> tuple[str, ...]:
    return tuple(unquote(kv.split("=", 1)[1]) for kv in partition.split("/"))


class GlueCatalog(Catalog):
    """The Glue Data Catalog: tables and partitions registered directly, then the layer's crawler as a safety net.

    Registration is immediate and exact (columns and types from the Parquet schema, Hive partition
    keys, Parquet SerDe, location); the crawler (`<crawler_prefix><database>-crawler`) then runs
    when `run_crawler` is set, to pick up anything registration cannot see, such as files written
    outside the pipeline.
    """

    region: str
    endpoint_url: str = ""
    database_prefix: str = ""
    crawler_prefix: str = "lakehouse-"
    run_crawler: bool = True
    crawler_timeout_seconds: float = 900.0
    poll_seconds: float = 5.0

    def _glue(self) -> Any:
        import boto3

        kwargs: dict[str, Any] = {"region_name": self.region}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        return boto3.client("glue", **kwargs)

    def refresh(
        self, context: dg.AssetExecutionContext | None, database: str, name: str, location: str
    ) -> TableEntry | None:
        """Register the table and its new partitions from its files, run the crawler if configured, read it back."""
        glue, physical = self._glue(), f"{self.database_prefix}{database}"
        entry = discover(physical, name, location)
        if entry is None:
            with contextlib.suppress(glue.exceptions.EntityNotFoundException):
                glue.delete_table(DatabaseName=physical, Name=name)
            return None
        self._register_table(glue, entry)
        added, removed = self._sync_partitions(glue, entry)
        if context:
            context.log.info(f"catalog {physical}.{name}: {added} partitions added, {removed} removed")
        if self.run_crawler:
            self.crawl(glue, f"{self.crawler_prefix}{physical}-crawler", context)
        return self._entry(glue, glue.get_table(DatabaseName=physical, Name=name)["Table"], database)

    def _register_table(self, glue: Any, entry: TableEntry) -> None:
        table_input = _table_input(entry)
        try:
            current = glue.get_table(DatabaseName=entry.database, Name=entry.name)["Table"]
        except glue.exceptions.EntityNotFoundException:
            glue.create_table(DatabaseName=entry.database, TableInput=table_input)
            return
        if [k["Name"] for k in current.get("PartitionKeys", [])] != entry.partition_keys:
            # Partitions of the old layout would no longer match; start the table afresh.
            glue.delete_table(DatabaseName=entry.database, Name=entry.name)
            glue.create_table(DatabaseName=entry.database, TableInput=table_input)
        elif _describes(current) != _describes(table_input):
            glue.update_table(DatabaseName=entry.database, TableInput=table_input)

    def _sync_partitions(self, glue: Any, entry: TableEntry) -> tuple[int, int]:
        if not entry.partition_keys:
            return 0, 0
        wanted = {_values(p): p for p in entry.partitions}
        held = {
            tuple(p["Values"])
            for page in glue.get_paginator("get_partitions").paginate(DatabaseName=entry.database, TableName=entry.name)
            for p in page["Partitions"]
        }
        missing = [v for v in wanted if v not in held]
        base = entry.location.rstrip("/")
        for start in range(0, len(missing), PARTITION_BATCH):
            inputs = [
                {"Values": list(v), "StorageDescriptor": _storage(f"{base}/{wanted[v]}", entry.columns)}
                for v in missing[start:start + PARTITION_BATCH]
            ]
            errors = glue.batch_create_partition(
                DatabaseName=entry.database, TableName=entry.name, PartitionInputList=inputs
            ).get("Errors", [])
            # A concurrent crawler may have added the same partition; anything else is a real failure.
            real = [e for e in errors if e["ErrorDetail"].get("ErrorCode") != "AlreadyExistsException"]
            if real:
                raise CatalogError(f"{entry.database}.{entry.name}: cannot register partitions: {real}")
        gone = [list(v) for v in held if v not in wanted]
        for start in range(0, len(gone), PARTITION_DELETE_BATCH):
            glue.batch_delete_partition(
                DatabaseName=entry.database, TableName=entry.name,
                PartitionsToDelete=[{"Values": v} for v in gone[start:start + PARTITION_DELETE_BATCH]],
            )
        return len(missing), len(gone)

    def crawl(self, glue: Any, crawler: str, context: dg.AssetExecutionContext | None = None) -> None:
        """Start the crawler and wait for its run; a run already going is waited out, then ours starts."""
        deadline = time.monotonic() + self.crawler_timeout_seconds
        waited = False
        while True:
            try:
                glue.start_crawler(Name=crawler)
                break
            except glue.exceptions.CrawlerRunningException:
                if waited:
                    # This run started after the one we waited for ended, so after our write: it covers us.
                    break
                if context:
                    context.log.info(f"crawler {crawler} already running; waiting for it before starting again")
                self._wait_ready(glue, crawler, deadline)
                waited = True
        last = self._wait_ready(glue, crawler, deadline)
        if last.get("Status") == "FAILED":
            raise CatalogError(f"Glue crawler {crawler} failed: {last.get('ErrorMessage', 'no message')}")

    def _wait_ready(self, glue: Any, crawler: str, deadline: float) -> dict[str, Any]:
        while True:
            # The running crawl's id names it in a timeout (its log stream); listing it is also what
            # advances moto's emulated crawls, which otherwise stay RUNNING.
            running = glue.list_crawls(CrawlerName=crawler, Filters=[
                {"FieldName": "STATE", "FilterOperator": "EQ", "FieldValue": "RUNNING"}])["Crawls"]
            state = glue.get_crawler(Name=crawler)["Crawler"]
            if state["State"] == "READY":
                return state.get("LastCrawl", {})
            if time.monotonic() >= deadline:
                crawl = f", crawl {running[0]['CrawlId']}" if running else ""
                raise CrawlerTimeout(
                    f"Glue crawler {crawler} did not finish within {self.crawler_timeout_seconds:g} seconds "
                    f"(state {state['State']}{crawl})"
                )
            time.sleep(min(self.poll_seconds, max(deadline - time.monotonic(), 0.0)))

    def tables(self, database: str | None = None) -> list[TableEntry]:
        """Tables and partitions as the Glue Data Catalog holds them, under their logical database names."""
        glue = self._glue()
        if database:
            databases = [database]
        else:
            names = [d["Name"] for page in glue.get_paginator("get_databases").paginate() for d in page["DatabaseList"]]
            databases = [n.removeprefix(self.database_prefix) for n in names if n.startswith(self.database_prefix)]
        entries = [
            self._entry(glue, table, db)
            for db in databases
            for page in glue.get_paginator("get_tables").paginate(DatabaseName=f"{self.database_prefix}{db}")
            for table in page["TableList"]
        ]
        return sorted(entries, key=lambda e: (e.database, e.name))

    def _entry(self, glue: Any, table: dict[str, Any], database: str) -> TableEntry:
        sd = table.get("StorageDescriptor", {})
        keys = [k["Name"] for k in table.get("PartitionKeys", [])]
        pages = glue.get_paginator("get_partitions").paginate(
            DatabaseName=table["DatabaseName"], TableName=table["Name"])
        parts = [
            "/".join(f"{k}={v}" for k, v in zip(keys, p["Values"])) for page in pages for p in page["Partitions"]
        ] if keys else []
        location = sd.get("Location", "").rstrip("/")
        columns = [(c["Name"], c["Type"]) for c in sd.get("Columns", [])]
        return TableEntry(database, table["Name"], location, columns, keys, sorted(parts))

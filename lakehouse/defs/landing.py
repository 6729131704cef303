"""What the landing sensors and the bronze assets see of the landing zone: folder names read as data, never parsed
in a way that can throw, and one fingerprint per partition folder that the bronze materialization records and the
sensors compare, so a partition is requested again only when its files differ from what bronze ingested."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg

from glue_scripts.common.specs import BronzeSpec
from lakehouse.resources import Warehouse

LANDING_SOURCES = ("files", "logs")

PARTITION_PREFIX = "ingestion_date="
# A folder dated later than today plus this many days is a mistake (or a test), not an early delivery.
FUTURE_TOLERANCE_DAYS = 1
FINGERPRINT_KEY = "landing_fingerprint"
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class FolderDay:
    """A landing folder read as a partition: its ingestion date, or why no partition can be read from it."""

    day: str = ""
    problem: str = ""


def read_folder(name: str, today: date, tolerance_days: int = FUTURE_TOLERANCE_DAYS) -> FolderDay:
    """The ingestion date of a folder named `ingestion_date=YYYY-MM-DD`, or the reason it is not a usable partition."""
    if not name.startswith(PARTITION_PREFIX):
        return FolderDay(problem=f"not an {PARTITION_PREFIX}YYYY-MM-DD folder")
    value = name[len(PARTITION_PREFIX):]
    if not _ISO_DATE.fullmatch(value):
        return FolderDay(problem="not a YYYY-MM-DD date")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return FolderDay(problem="not a valid calendar date")
    if day > today + timedelta(days=tolerance_days):
        return FolderDay(problem=f"more than {tolerance_days} day(s) after today ({today.isoformat()})")
    return FolderDay(day=value)


def partition_files(warehouse: Warehouse, source: str, entity: str, day: str) -> dict[str, str]:
    """{path inside the partition folder: "size:mtime"} of every file under one landing partition."""
    base = warehouse.uri("landing", source, entity, f"{PARTITION_PREFIX}{day}").rstrip("/") + "/"
    entries = warehouse.list_files("landing", f"{source}/{entity}/{PARTITION_PREFIX}{day}")
    return {e.uri.removeprefix(base): f"{e.size}:{e.mtime:.6f}" for e in entries}


def fingerprint(files: dict[str, str]) -> str:
    """A short digest of a partition's listing: the same files, sizes and mtimes give the same fingerprint."""
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]


def nested_folders(files: dict[str, str]) -> list[str]:
    """The sub-folders of a partition folder (bronze reads only the files directly inside it)."""
    return sorted({name.split("/", 1)[0] for name in files if "/" in name})


def landing_fingerprints(warehouse: Warehouse, spec: BronzeSpec, days: Sequence[str]) -> dict[str, dg.MetadataValue]:
    """The bronze materialization's record of the landing files it is about to ingest, one fingerprint per day of the
    run (taken before the job reads, so a file landing meanwhile differs and is requested again); none for sources
    without a landing zone."""
    if spec.source not in LANDING_SOURCES:
        return {}
    by_day = {day: fingerprint(partition_files(warehouse, spec.source, spec.entity, day)) for day in days}
    return {FINGERPRINT_KEY: dg.MetadataValue.json(by_day)}


def recorded_fingerprint(instance: dg.DagsterInstance, key: dg.AssetKey, day: str) -> str:
    """The landing fingerprint the latest materialization of (asset, day) recorded; empty when there is none."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[day]), limit=1, ascending=False
    ).records
    if not records or records[0].asset_materialization is None:
        return ""
    value = records[0].asset_materialization.metadata.get(FINGERPRINT_KEY)
    recorded = value.value if isinstance(value, dg.JsonMetadataValue) else None
    return str(recorded.get(day, "")) if isinstance(recorded, dict) else ""

"""Glue job bronze_ingest_api: the CRM's customers modified in one day → one bronze partition."""

from __future__ import annotations

import json
import os
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from glue_scripts.common.api_client import ApiClient
from glue_scripts.common.bronze_job import BronzeArgs, bronze_args, write_bronze
from glue_scripts.common.days import over_days
from glue_scripts.common.entry import main, require
from glue_scripts.common.names import UNUSABLE_KEY, shape
from glue_scripts.common.records import CORRUPT, DEFECTS
from glue_scripts.common.redact import redact

JOB = "bronze_ingest_api"
PATHS = {"customers": "/v1/customers"}
PAGE = "_page"
FIRST_PAGE = "initial"
Paged = tuple[str, dict[str, Any]]  # (page cursor, record)


def shape_records(records: list[Paged], columns: tuple[str, ...]) -> list[Paged]:
    """Records as raw strings with keys mapped onto bronze columns (glue_scripts.common.names); a nested value in a
    spec column is flagged `not_a_scalar`, and a record whose keys collide or reach into the internal `_` namespace
    is kept whole as JSON in `_corrupt_record`, defect `unusable_key`."""
    out: list[Paged] = []
    for cursor, record in records:
        shaped = shape(record.items(), columns)
        if isinstance(shaped, str):
            out.append((cursor, {CORRUPT: json.dumps(record, ensure_ascii=False), DEFECTS: UNUSABLE_KEY}))
        else:
            values, defects = shaped
            out.append((cursor, {**values, DEFECTS: ";".join(defects)} if defects else values))
    return out


def ingest(spark: SparkSession, job: BronzeArgs, client: ApiClient, limit: int) -> dict[str, Any]:
    """Fetch every page of the partition's window and write the records as raw strings."""
    spec = job.spec
    start, end = job.window
    path = PATHS[spec.entity]
    records: list[Paged] = []
    pages = 0
    for cursor, data in client.pages(path, {"updated_since": start, "updated_until": end}, limit):
        pages += 1
        records.extend((cursor or FIRST_PAGE, r) for r in data)
    records = shape_records(records, spec.columns)
    extras = sorted({k for _, r in records for k in r if not k.startswith("_")} - set(spec.columns))
    internal = [CORRUPT, DEFECTS] if any(CORRUPT in r for _, r in records) else []
    names = [*spec.columns, *extras, *internal, PAGE]
    schema = T.StructType([T.StructField(n, T.StringType()) for n in names])
    rows = [tuple(r.get(n) for n in names[:-1]) + (cursor,) for cursor, r in records]
    raw = spark.createDataFrame(rows, schema)
    bronze = job.stamp(raw, F.col(PAGE))
    ref = redact(f"GET {client.base_url.rstrip('/')}{path} updated_since={start} updated_until={end}, {pages} page(s)")
    return write_bronze(bronze, job, source_rows=len(records), source_ref=ref)


def run(spark: SparkSession, args: dict[str, str]) -> dict[str, Any]:
    """Ingest `api__customers` for `--ingestion_date` (through `--ingestion_date_end`) from `--api_url` into `--bronze_path`."""
    bronze_args(args, JOB)
    api_url, token_env = require(args, "api_url", "api_token_env")
    token = os.environ.get(token_env)
    if not token:
        raise ValueError(f"--api_token_env names {token_env}, which is not set")
    client = ApiClient(api_url, token, source=args["table"], max_attempts=int(args.get("api_max_attempts", "6")))
    limit = int(args.get("api_page_size", "1000"))
    return over_days(args, lambda day: ingest(spark, bronze_args(day, JOB), client, limit))


if __name__ == "__main__":
    main(run)

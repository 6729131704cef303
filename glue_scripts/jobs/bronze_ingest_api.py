"""Glue job bronze_ingest_api: the CRM's customers modified in one day → one bronze partition."""

from __future__ import annotations

import json
import os
from typing import Any

from glue_scripts.common import bronze_arrow
from glue_scripts.common.api_client import ApiClient
from glue_scripts.common.bronze_job import BronzeArgs, bronze_args, bronze_day, bronze_report
from glue_scripts.common.entry import main, require
from glue_scripts.common.names import UNUSABLE_KEY, shape
from glue_scripts.common.records import CORRUPT, DEFECTS
from glue_scripts.common.redact import redact
from glue_scripts.common.reports import BronzeDay, BronzeReport

JOB = "bronze_ingest_api"
PATHS = {"customers": "/v1/customers"}
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


def ingest(job: BronzeArgs, client: ApiClient, limit: int) -> BronzeDay:
    """Fetch every page of the partition's window; write the records as raw strings, page cursor as `_source_ref`."""
    spec = job.spec
    start, end = job.window
    path = PATHS[spec.entity]
    records: list[Paged] = []
    pages = 0
    for cursor, data in client.pages(path, {"updated_since": start, "updated_until": end}, limit):
        pages += 1
        records.extend((cursor or FIRST_PAGE, r) for r in data)
    records = shape_records(records, spec.columns)
    internal = [CORRUPT, DEFECTS] if any(CORRUPT in r or DEFECTS in r for _, r in records) else []
    table = bronze_arrow.bronze_table([r for _, r in records], [c for c, _ in records], spec.columns, internal,
                                      ingestion_date=job.ingestion_date, source_system=spec.source, run_id=job.run_id)
    ref = redact(f"GET {client.base_url.rstrip('/')}{path} updated_since={start} updated_until={end}, {pages} page(s)")
    return bronze_day(bronze_arrow.write(table, job.bronze_path, spec.name, job.partition), len(records), ref,
                      bronze_arrow.schema_of(table))


def run(spark: Any, args: dict[str, str]) -> BronzeReport:
    """Ingest `api__customers` for `--ingestion_date` (through `--ingestion_date_end`) from `--api_url` into
    `--bronze_path`; plain Python and Arrow, `spark` is never used."""
    bronze_args(args, JOB)
    api_url, token_env = require(args, "api_url", "api_token_env")
    token = os.environ.get(token_env)
    if not token:
        raise ValueError(f"--api_token_env names {token_env}, which is not set")
    client = ApiClient(api_url, token, source=args["table"], max_attempts=int(args.get("api_max_attempts", "6")))
    limit = int(args.get("api_page_size", "1000"))
    return bronze_report(args, JOB, lambda job: ingest(job, client, limit))


if __name__ == "__main__":
    main(run)

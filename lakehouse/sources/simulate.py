"""`simulate`: generate TPC-H, then write every source system with seeded faults and the manifest."""

from __future__ import annotations

import random
import shutil
from contextlib import nullcontext
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
from rich.progress import Progress

from lakehouse.sources.api_store import write_store
from lakehouse.sources.deliver import deliver
from lakehouse.sources.entities import CUSTOMER, FILE_ENTITIES, LINEITEM, ORDERS
from lakehouse.sources.db import write_db
from lakehouse.sources.faults import Faulter
from lakehouse.sources.files import write_files
from lakehouse.sources.logs import write_logs
from lakehouse.sources.manifest import Tally, write_manifest
from lakehouse.sources.plan import DEFAULT_START_DATE, day_counts, ingestion_days, plan_orders
from lakehouse.sources.tpch import generate_tpch

DEFAULT_SEED = 20240101


def _rng(seed: int, part: str) -> random.Random:
    """An independent, reproducible random stream per part of the world."""
    return random.Random(f"{seed}:{part}")


def simulate(root: Path, sf: float = 0.01, days: int = 3, seed: int = DEFAULT_SEED,
             start_date: date = DEFAULT_START_DATE, db_url: str | None = None, stage_only: bool = False,
             progress: bool = True) -> dict[str, Any]:
    """Regenerate the world under `<root>/sources` and `<root>/landing`; return the manifest."""
    root = Path(root)
    for folder in (root / "sources", root / "landing"):
        shutil.rmtree(folder, ignore_errors=True)
    dates = ingestion_days(start_date, days)
    day_names = [str(d) for d in dates]
    tally = Tally(day_names)
    tpch_dir = root / "sources" / "tpch"
    staging = root / "sources" / "drops"
    bar = Progress(disable=not progress, transient=False)
    with bar if progress else nullcontext():
        task = bar.add_task("TPC-H (tpchgen-cli)", total=None)
        sizes = generate_tpch(tpch_dir, sf)
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false; SET memory_limit = '512MB'")
        plan_orders(con, tpch_dir, days)
        counts = day_counts(con, tpch_dir)
        faulters = {e.name: Faulter(e, _rng(seed, e.name)) for e in (ORDERS, LINEITEM, CUSTOMER)}
        faulters.update({e.name: Faulter(e, _rng(seed, e.name)) for e, _, _ in FILE_ENTITIES.values()})
        bar.update(task, description="database: orders, lineitem", total=sizes["orders"] + sizes["lineitem"], completed=0)
        db = write_db(con, tpch_dir, root, db_url, dates, counts, faulters, tally, lambda n: bar.advance(task, n))
        bar.update(task, description="API store: customers", total=None)
        late_keys = write_store(con, tpch_dir, root, dates, faulters[CUSTOMER.name], tally)
        bar.update(task, description="file drops")
        files = write_files(con, tpch_dir, staging, dates, sizes, faulters, _rng(seed, "files"), tally)
        bar.update(task, description="web logs")
        orders_per_day = [counts.get(i, (0, 0))[0] for i in range(days)]
        web_truth = root / "sources" / "truth" / "web_events.parquet"
        logs = write_logs(staging, dates, orders_per_day, sizes["customer"], sizes["part"], _rng(seed, "logs"), tally,
                          web_truth)
        logs["truth"] = web_truth.relative_to(root).as_posix()
        con.close()
        manifest = {
            "scale_factor": sf, "seed": seed, "start_date": str(start_date), "days": day_names,
            "tpch_rows": sizes, "db": db, "api": {"store": "sources/api/customers.jsonl", "path": "/v1/customers"},
            "tables": tally.finish(), "logs": logs, "late_files": files["late_files"],
            "schema_drift": files["schema_drift"], "late_customer_keys": late_keys,
        }
        write_manifest(root, manifest)
        if not stage_only:
            bar.update(task, description="delivering to landing/", total=days, completed=0)
            for day in dates:
                deliver(root, day)
                bar.advance(task)
    return manifest

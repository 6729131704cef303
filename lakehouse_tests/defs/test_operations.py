"""How runs are operated: transient retries with backoff and jitter, Glue concurrency pools, days applied in order,
single-run backfills, and one local Spark JVM per process."""

import random
from pathlib import Path

import dagster as dg
import pytest

from glue_scripts.common.api_client import ApiUnavailableError
from glue_scripts.common.reports import ReportError
from glue_scripts.common.session import get_spark
from lakehouse.definitions import build_definitions
from lakehouse.defs import common
from lakehouse.defs.bronze.assets import BRONZE_ASSETS
from lakehouse.resources import GlueJobs, GlueRun, LocalMetrics, Warehouse
from lakehouse.resources.catalog import LocalCatalog
from lakehouse.resources.sources import SourceSystems
from lakehouse.settings import load_settings
from lakehouse_tests.defs.test_partitioned_checks import region_day, region_report
from lakehouse_tests.test_definitions import AWS_ENV

REGION = dg.AssetKey(["bronze", "files__region"])


class FlakyGlue(GlueJobs):
    """Fails its first `failures` runs with `error`, then reports a clean partition; logs each attempt's retry number."""

    attempts_path: str
    failures: int
    error: str

    def run(self, context: dg.AssetExecutionContext, job: str, args: dict[str, str]) -> GlueRun:
        """Record the attempt, then fail or report three rows read and written."""
        log = Path(self.attempts_path)
        previous = log.read_text().split() if log.exists() else []
        log.write_text(" ".join([*previous, str(context.retry_number)]))
        if len(previous) < self.failures:
            raise ApiUnavailableError("api__customers: 503 Service Unavailable") if self.error == "transient" else ValueError("bad --table")
        day = args["ingestion_date"]
        partition = f"{args['bronze_path']}/files__region/ingestion_date={day}"
        return GlueRun("glue-run-1", region_report(args["bronze_path"], {day: region_day(3, 3, partition)}))


def _materialize_region(tmp_path: Path, failures: int, error: str) -> tuple[bool, list[int]]:
    warehouse = Warehouse(**{layer: str(tmp_path / layer) for layer in ("landing", "bronze", "silver", "gold", "quarantine")})
    glue = FlakyGlue(attempts_path=str(tmp_path / "attempts"), failures=failures, error=error)
    result = dg.materialize(
        [a for a in BRONZE_ASSETS if a.key == REGION], partition_key="2024-01-01", raise_on_error=False,
        resources={"glue": glue, "warehouse": warehouse, "catalog": LocalCatalog(path=str(tmp_path / "catalog")),
                   "sources": SourceSystems(db_url="jdbc:sqlite:unused", root=str(tmp_path)), "metrics": LocalMetrics(path=str(tmp_path / "metrics.jsonl"))},
    )
    return result.success, [int(n) for n in (tmp_path / "attempts").read_text().split()]


def test_transient_failures_are_retried_until_the_job_succeeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "BASE_DELAY_SECONDS", 0.01)
    assert _materialize_region(tmp_path, failures=2, error="transient") == (True, [0, 1, 2])


def test_retries_stop_after_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "BASE_DELAY_SECONDS", 0.01)
    assert _materialize_region(tmp_path, failures=99, error="transient") == (False, list(range(common.MAX_RETRIES + 1)))


def test_configuration_errors_fail_at_once(tmp_path: Path) -> None:
    assert _materialize_region(tmp_path, failures=1, error="config") == (False, [0])


def test_retry_delay_doubles_per_attempt_with_jitter() -> None:
    random.seed(7)
    for attempt in range(4):
        delays = [common.retry_delay(attempt, 2.0) for _ in range(200)]
        low, high = 2.0 * 2**attempt * 0.5, 2.0 * 2**attempt * 1.5
        assert all(low <= d <= high for d in delays)
        assert max(delays) - min(delays) > (high - low) * 0.8, "jitter spreads the retries"


def test_every_glue_backed_asset_runs_in_the_glue_pool_and_backfills_in_one_run(tmp_path: Path) -> None:
    graph = build_definitions(load_settings({"LAKEHOUSE_ROOT": str(tmp_path)})).resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.pools == (set() if key.path[0] == "snowflake" else {"glue"}), key
        assert node.backfill_policy == dg.BackfillPolicy.single_run(), key


def test_local_runs_share_one_process_and_one_spark_jvm(tmp_path: Path) -> None:
    local = build_definitions(load_settings({"LAKEHOUSE_ROOT": str(tmp_path)}))
    assert local.executor is dg.in_process_executor
    assert build_definitions(load_settings(AWS_ENV)).executor is dg.multiprocess_executor
    assert local.resources["glue"].pyspark.spark_session.sparkContext is get_spark().sparkContext


def test_range_arguments_and_a_report_missing_a_day() -> None:
    assert common.day_range_args(["2024-01-01"]) == {"ingestion_date": "2024-01-01"}
    assert common.day_range_args(["2024-01-01", "2024-01-02", "2024-01-03"]) == {
        "ingestion_date": "2024-01-01", "ingestion_date_end": "2024-01-03"}
    report = region_report("/b", {"2024-01-01": region_day(1, 1, "/b/files__region/ingestion_date=2024-01-01")})
    assert list(report.for_days(["2024-01-01"])) == ["2024-01-01"]
    with pytest.raises(ReportError, match=r"bronze_ingest_files report: no result for ingestion date\(s\) \['2024-01-02'\]"):
        report.for_days(["2024-01-01", "2024-01-02"])


def test_metadata_of_one_day_and_of_a_range_have_the_same_keys() -> None:
    days = {d: region_day(n, n, f"/b/files__region/ingestion_date={d}") for d, n in (("2024-01-01", 2), ("2024-01-02", 3))}
    one = common.days_metadata("/b/files__region", {"2024-01-01": days["2024-01-01"]}, "g1")
    both = common.days_metadata("/b/files__region", days, "g1")
    assert one.keys() == both.keys()
    assert (one["dagster/row_count"], both["dagster/row_count"], both["bytes"]) == (2, 5, 20)
    assert both["rows_by_day"].value == {"2024-01-01": 2, "2024-01-02": 3} and both["path"].value == "/b/files__region"

"""Asset checks are partitioned by ingestion day (Dagster 1.13's preview `AssetCheckSpec.partitions_def`): a one-day
run records each check on exactly its day, a range run records one evaluation per day, and a failed day shows on
its own partition. These tests fail if the preview API changes what it stores."""

from pathlib import Path

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from glue_scripts.common.reports import BronzeDay, BronzeReport, LandingCounts
from lakehouse.definitions import build_definitions
from lakehouse.defs.bronze.assets import BRONZE_ASSETS
from lakehouse.defs.common import INGESTION_DAYS
from lakehouse.defs.silver.assets import SILVER_ASSETS
from lakehouse.resources import GlueJobs, GlueRun, LocalMetrics, Warehouse
from lakehouse.resources.catalog import LocalCatalog
from lakehouse.resources.sources import SourceSystems
from lakehouse.settings import load_settings

REGION = dg.AssetKey(["bronze", "files__region"])
ROWS_MATCH = dg.AssetCheckKey(REGION, "rows_match_source")
DAYS = ["2024-01-01", "2024-01-02", "2024-01-03"]


def region_day(rows: int, read: int, path: str) -> BronzeDay:
    """A files__region partition's report: `read` records in the files, `rows` of them written."""
    landing = LandingCounts(files_read=1, records_read=read, records_rejected=0, rejected_records=(), skipped_names=(),
                            missing_columns=(), parse_failures=0)
    return BronzeDay(rows=rows, bytes=10, files=1, path=path, source_rows=read, source_ref="1 file(s)",
                     schema=(("r_regionkey", "string"),), corrupt_files=(), landing=landing, accounting=None)


def region_report(bronze_path: str, days: dict[str, BronzeDay]) -> BronzeReport:
    """The bronze_ingest_files report of files__region for `days`."""
    return BronzeReport(job="bronze_ingest_files", table="files__region", path=f"{bronze_path}/files__region", days=days)


class DayGlue(GlueJobs):
    """Reports five region rows read per day, and one row lost on `short_day`; one result per day for a range."""

    short_day: str = ""

    def run(self, context: dg.AssetExecutionContext, job: str, args: dict[str, str]) -> GlueRun:
        """The per-day results the bronze job reports for the days of `args`."""
        days = [k for k in INGESTION_DAYS.get_partition_keys() if args["ingestion_date"] <= k <= args.get("ingestion_date_end", args["ingestion_date"])]
        by_day = {day: region_day(4 if day == self.short_day else 5, 5, f"{args['bronze_path']}/files__region/ingestion_date={day}")
                  for day in days}
        return GlueRun("glue-run-1", region_report(args["bronze_path"], by_day))


RANGE = {ASSET_PARTITION_RANGE_START_TAG: DAYS[0], ASSET_PARTITION_RANGE_END_TAG: DAYS[-1]}


def _resources(tmp_path: Path, short_day: str = "") -> dict[str, object]:
    warehouse = Warehouse(**{layer: str(tmp_path / layer) for layer in ("landing", "bronze", "silver", "gold", "quarantine")})
    return {"glue": DayGlue(short_day=short_day), "warehouse": warehouse, "catalog": LocalCatalog(path=str(tmp_path / "catalog")),
            "sources": SourceSystems(db_url="jdbc:sqlite:unused", root=str(tmp_path)),
            "metrics": LocalMetrics(path=str(tmp_path / "metrics.jsonl"))}


def _materialize(tmp_path: Path, instance: dg.DagsterInstance, short_day: str = "", **partitions: object) -> dg.ExecuteInProcessResult:
    return dg.materialize([a for a in BRONZE_ASSETS if a.key == REGION], instance=instance, raise_on_error=False,
                          resources=_resources(tmp_path, short_day), **partitions)


def _status_by_day(instance: dg.DagsterInstance, key: dg.AssetCheckKey) -> dict[str | None, tuple[str, bool]]:
    return {info.partition_key: (info.latest_execution_status.value, info.is_current)
            for info in instance.event_log_storage.get_asset_check_partition_info([key])}


def test_every_check_of_every_layer_is_partitioned_by_ingestion_day(tmp_path: Path) -> None:
    graph = build_definitions(load_settings({"LAKEHOUSE_ROOT": str(tmp_path)})).resolve_asset_graph()
    layers = {key.asset_key.path[0] for key in graph.asset_check_keys}
    assert layers == {"bronze", "silver", "gold", "snowflake"}
    for key in graph.asset_check_keys:
        assert graph.get_check_spec(key).partitions_def == INGESTION_DAYS, key
        assert graph.get(key).partitions_def == INGESTION_DAYS, key


def test_a_one_day_run_records_each_check_on_exactly_its_day(tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        assert _materialize(tmp_path, instance, partition_key=DAYS[1]).success
        assert _status_by_day(instance, ROWS_MATCH) == {DAYS[1]: (AssetCheckExecutionRecordStatus.SUCCEEDED.value, True)}
        [record] = instance.event_log_storage.get_asset_check_execution_history(ROWS_MATCH, limit=5)
        assert record.event.dagster_event.event_specific_data.partition == DAYS[1]


def test_a_range_run_records_one_evaluation_per_day_and_a_bad_day_fails_alone(tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        result = _materialize(tmp_path, instance, short_day=DAYS[1], tags=RANGE)
        assert not result.success, "a failed blocking check fails the step"
        evaluations = [(e.partition, e.passed) for e in result.get_asset_check_evaluations() if e.check_name == ROWS_MATCH.name]
        assert evaluations == [(DAYS[0], True), (DAYS[1], False), (DAYS[2], True)]
        assert _status_by_day(instance, ROWS_MATCH) == {
            DAYS[0]: (AssetCheckExecutionRecordStatus.SUCCEEDED.value, True),
            DAYS[1]: (AssetCheckExecutionRecordStatus.FAILED.value, True),
            DAYS[2]: (AssetCheckExecutionRecordStatus.SUCCEEDED.value, True),
        }
        passed_everywhere = dg.AssetCheckKey(REGION, "has_no_corrupt_files")
        assert {day for day, (status, _) in _status_by_day(instance, passed_everywhere).items()
                if status == AssetCheckExecutionRecordStatus.SUCCEEDED.value} == set(DAYS)


def test_automation_holds_back_only_the_day_whose_blocking_check_failed(tmp_path: Path) -> None:
    silver = next(a for a in SILVER_ASSETS if a.key == dg.AssetKey(["silver", "region"]))
    defs = dg.Definitions(assets=[*(a for a in BRONZE_ASSETS if a.key == REGION), silver], resources=_resources(tmp_path))
    selection = dg.AssetSelection.assets(silver.key)
    with dg.instance_for_test() as instance:
        tick = dg.evaluate_automation_conditions(defs, instance, asset_selection=selection)
        assert tick.total_requested == 0
        _materialize(tmp_path, instance, short_day=DAYS[1], tags=RANGE)
        tick = dg.evaluate_automation_conditions(defs, instance, asset_selection=selection, cursor=tick.cursor)
        assert sorted(tick.get_requested_partitions(silver.key)) == [DAYS[0], DAYS[2]]

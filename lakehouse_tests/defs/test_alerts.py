"""The run-failure sensor publishes a failed-run metric for exactly the run that failed."""

from pathlib import Path

import dagster as dg

from lakehouse.defs.automation import run_failure_alert
from lakehouse.resources import LocalMetrics


@dg.op
def explode() -> None:
    raise RuntimeError("glue job lakehouse-silver_build FAILED: out of memory")


@dg.job
def doomed() -> None:
    explode()


def test_failed_run_publishes_a_metric(tmp_path: Path) -> None:
    metrics = LocalMetrics(path=str(tmp_path / "metrics.jsonl"))
    with dg.instance_for_test() as instance:
        result = doomed.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_alert", dagster_instance=instance, dagster_run=result.dagster_run,
            dagster_event=failure, resources={"metrics": metrics},
        ).for_run_failure()
        run_failure_alert(context)
    records = metrics.records()
    assert [(r["layer"], r["table"], r["values"]) for r in records] == [("pipeline", "doomed", {"failed_runs": 1.0})]


"""Sensor ticks evaluated the way the daemon evaluates them, against a given instance: the landing sensors from a
cursor, and the automation sensor from its asset-daemon cursor."""

from __future__ import annotations

import logging

import dagster as dg
from dagster._core.definitions.asset_daemon_cursor import AssetDaemonCursor
from dagster._core.definitions.automation_tick_evaluation_context import AutomationTickEvaluationContext

from lakehouse.defs.automation import AUTOMATION_SENSOR, build_landing_sensor


def landing_tick(defs: dg.Definitions, instance: dg.DagsterInstance, source: str,
                 cursors: dict[str, str | None]) -> list[dg.RunRequest]:
    """One tick of a landing sensor, resuming from and updating its cursor."""
    with dg.build_sensor_context(instance=instance, cursor=cursors.get(source),
                                 resources={"warehouse": defs.resources["warehouse"]}) as context:
        result = build_landing_sensor(source)(context)
    cursors[source] = result.cursor
    return list(result.run_requests)


def automation_tick(defs: dg.Definitions, instance: dg.DagsterInstance,
                    cursor: AssetDaemonCursor) -> tuple[list[dg.RunRequest], AssetDaemonCursor]:
    """One tick of the automation sensor, evaluated the way the daemon evaluates it, against the instance."""
    evaluation = AutomationTickEvaluationContext(
        evaluation_id=cursor.evaluation_id, instance=instance, asset_graph=defs.resolve_asset_graph(), cursor=cursor,
        materialize_run_tags=AUTOMATION_SENSOR.run_tags, observe_run_tags={}, auto_observe_asset_keys=set(),
        asset_selection=AUTOMATION_SENSOR.asset_selection, logger=logging.getLogger("lakehouse_automation"),
        emit_backfills=AUTOMATION_SENSOR.emit_backfills,
    )
    requests, next_cursor, _ = evaluation.evaluate()
    return list(requests), next_cursor

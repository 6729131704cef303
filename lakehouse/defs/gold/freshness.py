"""When the gold marts are due, and the alert when one is late.

Each mart carries a cron freshness policy; Dagster's freshness daemon (enabled in dagster.yaml) evaluates it and
records every mart's freshness state in the instance. `stale_marts_alert` reads those states and publishes a
`stale_marts` metric through the metrics path (CloudWatch in aws, `<root>/metrics` locally).
"""

import json
from datetime import timedelta

import dagster as dg
from dagster._core.definitions.freshness import FreshnessState

from glue_scripts.transforms.gold import MARTS
from lakehouse.resources import Metrics

# Database and API are extracted for the previous day at 01:00 UTC; every mart is due by 06:00 UTC, built after 01:00.
GOLD_FRESHNESS = dg.FreshnessPolicy.cron(deadline_cron="0 6 * * *", lower_bound_delta=timedelta(hours=5), timezone="UTC")
GOLD_KEYS = [dg.AssetKey(["gold", mart.name]) for mart in MARTS]


def stale_marts(instance: dg.DagsterInstance) -> list[str]:
    """The gold marts whose latest freshness state, as the freshness daemon recorded it, is FAIL."""
    records = instance.get_freshness_state_records(GOLD_KEYS)
    return sorted(key.path[-1] for key, record in records.items() if record.freshness_state == FreshnessState.FAIL)


@dg.sensor(name="stale_marts_alert", minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Publishes a stale_marts metric (CloudWatch in aws, the metrics file locally) while a gold mart is late.")
def stale_marts_alert(context: dg.SensorEvaluationContext, metrics: Metrics) -> dg.SensorResult:
    """A `stale_marts` datum (the count of late marts) on every tick with a late mart, and once when they recover."""
    stale = stale_marts(context.instance)
    previous = json.loads(context.cursor) if context.cursor else []
    if stale or previous:
        metrics.publish("gold", "freshness", {"stale_marts": len(stale)})
    if stale:
        context.log.error(f"gold marts past their 06:00 UTC deadline: {', '.join(stale)}")
    return dg.SensorResult(cursor=json.dumps(stale))

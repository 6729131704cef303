"""Entry point shared by every Glue job: parse Glue-style arguments, get Spark, run, report via Pipes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict

from pyspark.sql import SparkSession

from glue_scripts.common.locks import run_exclusive
from glue_scripts.common.redact import redact_value
from glue_scripts.common.reports import REPORT_KEY, JobReport
from glue_scripts.common.session import LazySpark

JobFn = Callable[[SparkSession, dict[str, str]], JobReport]
PIPES_ARGS = ("dagster-pipes-context", "dagster-pipes-messages")


def parse_args(argv: Sequence[str]) -> dict[str, str]:
    """Read `--name value` pairs the way Glue passes job arguments; a bare flag reads as 'true'."""
    args: dict[str, str] = {}
    items = list(argv)
    i = 0
    while i < len(items):
        token = items[i]
        if not token.startswith("--"):
            raise ValueError(f"unexpected job argument {token!r}; arguments are --name value pairs")
        name = token[2:]
        if "=" in name:
            name, value = name.split("=", 1)
            i += 1
        elif i + 1 < len(items) and not items[i + 1].startswith("--"):
            value = items[i + 1]
            i += 2
        else:
            value = "true"
            i += 1
        args[name] = value
    return args


def require(args: dict[str, str], *names: str) -> list[str]:
    """Return the named arguments, failing with one message that lists every missing one."""
    missing = [n for n in names if not args.get(n)]
    if missing:
        raise ValueError(f"missing job argument(s): {', '.join('--' + n for n in missing)}")
    return [args[n] for n in names]


def main(run: JobFn, argv: Sequence[str] | None = None) -> JobReport:
    """Run a job as Glue does, holding the writer leases of what it writes (glue_scripts/common/locks.py);
    with Pipes arguments present, report its report to Dagster."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    spark = LazySpark()
    if not any(name in args for name in PIPES_ARGS):
        result = run_exclusive(run, spark, args)
        print(redacted_json(result))
        return result
    import boto3
    from dagster_pipes import PipesCliArgsParamsLoader, PipesS3ContextLoader, open_dagster_pipes

    with open_dagster_pipes(
        params_loader=PipesCliArgsParamsLoader(),
        context_loader=PipesS3ContextLoader(client=boto3.client("s3")),
    ) as pipes:
        result = run_exclusive(run, spark, args)
        pipes.report_asset_materialization(metadata={REPORT_KEY: redacted_json(result)})
    return result


def redacted_json(report: JobReport) -> str:
    """The report as JSON with every string redacted (a source reference may carry a URL with credentials)."""
    return json.dumps(redact_value(asdict(report)))

"""The `lakehouse` command: simulate | run | bench | query | serve-api."""

from __future__ import annotations

import os
import shutil
import sys
from datetime import date, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from lakehouse.cli_input import (MIN_SCALE_FACTOR, OneLineErrors, refuse_other_world, root_from, scale_factor, world_of,
                                 writable_root)
from lakehouse.settings import DEFAULT_ROOT, ENGINES, SettingsError, load_settings, local_engine

console = Console(stderr=True)

root_option = click.option(
    "--root", type=click.Path(path_type=Path), default=None,
    help=f"Warehouse root (default: $LAKEHOUSE_ROOT or {DEFAULT_ROOT}).",
)
reset_option = click.option(
    "--reset", is_flag=True,
    help="Clear the root first (sources, every layer, the catalog, Snowflake, the Dagster instance, logs).",
)


def _world_options(fn):  # type: ignore[no-untyped-def]
    from lakehouse.sources import DEFAULT_SEED, DEFAULT_START_DATE

    fn = click.option("--start-date", type=click.DateTime(["%Y-%m-%d"]), default=str(DEFAULT_START_DATE), show_default=True,
                      help="First ingestion day.")(fn)
    fn = click.option("--seed", type=click.IntRange(min=0), default=DEFAULT_SEED, show_default=True,
                      help="Simulator seed: the same seed, scale factor and days give the same world.")(fn)
    fn = click.option("--days", type=click.IntRange(1, 366), default=3, show_default=True, help="Ingestion days.")(fn)
    fn = click.option("--sf", type=float, default=0.01, show_default=True, callback=scale_factor,
                      help=f"TPC-H scale factor, at least {MIN_SCALE_FACTOR}.")(fn)
    return fn


def _use_root(root: Path | None) -> Path:
    root_from(root)
    try:
        return load_settings().root
    except SettingsError as error:
        raise click.ClickException(str(error)) from error


def _world(sf: float, days: int, seed: int, start_date: datetime) -> dict[str, object]:
    """The parameters of the world a command asks for, as the manifest records them."""
    return {"scale_factor": sf, "days": days, "seed": seed, "start_date": start_date.date().isoformat()}


def _simulate(path: Path, world: dict, db_url: str | None = None, stage_only: bool = False) -> dict:
    """Simulate the world under `path`; on failure remove the partial sources and landing zone."""
    from lakehouse.sources import simulate as run_simulation

    try:
        return run_simulation(path, sf=world["scale_factor"], days=world["days"], seed=world["seed"],
                              start_date=date.fromisoformat(world["start_date"]), db_url=db_url, stage_only=stage_only,
                              progress=True)
    except BaseException:
        for folder in ("sources", "landing"):
            shutil.rmtree(path / folder, ignore_errors=True)
        raise


@click.group(cls=OneLineErrors)
def main() -> None:
    """A Dagster lakehouse on AWS Glue, S3, Athena and Snowflake (or their local stand-ins)."""


@main.command()
@_world_options
@click.option("--db-url", default=None, help="PostgreSQL URL for the database source (default: SQLite under the root).")
@click.option("--stage-only", is_flag=True, help="Stage every day's files without delivering them to landing/.")
@reset_option
@root_option
def simulate(sf: float, days: int, seed: int, start_date: datetime, db_url: str | None, stage_only: bool,
             reset: bool, root: Path | None) -> None:
    """Generate the four source systems from TPC-H, with seeded faults and a ground-truth manifest."""
    path = _use_root(root)
    world = _world(sf, days, seed, start_date)
    refuse_other_world(path, world, reset)
    manifest = _simulate(path, world, db_url, stage_only)
    console.print(f"simulated {len(manifest['days'])} days at SF {sf} (seed {seed}) under {path / 'sources'}")


@main.command()
@_world_options
@click.option("--verbose", is_flag=True, help="Stream the full event log (also written to <root>/logs/) to the terminal.")
@reset_option
@root_option
def run(sf: float, days: int, seed: int, start_date: datetime, verbose: bool, reset: bool, root: Path | None) -> None:
    """Simulate the sources if missing, then run the code location's lakehouse_daily job for every ingestion day."""
    from lakehouse.launch import LaunchError
    from lakehouse.pipeline import run_days, use_instance
    from lakehouse.sources import load_manifest
    from lakehouse.summary import print_summary, table_rows
    from lakehouse.terminal import output_to, run_log_path, streamed

    path = _use_root(root)
    world = _world(sf, days, seed, start_date)
    refuse_other_world(path, world, reset)
    if world_of(path) is None:
        console.print(f"simulating sources (SF {sf}, {days} days, seed {seed}) under {path / 'sources'}", soft_wrap=True)
        _simulate(path, world)
    manifest = load_manifest(path)
    log = run_log_path(path)
    console.print(f"full event log: {log}", soft_wrap=True, highlight=False)
    try:
        with output_to(log) as terminal, streamed(log, terminal, verbose):
            summary = run_days([str(d) for d in manifest["days"]], use_instance(path), Console(file=terminal))
    except LaunchError as error:
        raise click.ClickException(f"{error}; the full log is {log}") from error
    summary.table_rows = table_rows()
    print_summary(summary, manifest, Console(), console)
    if not summary.ok:
        raise click.ClickException(
            f"pipeline failed: {len(summary.failed_runs)} failed run(s), {len(summary.blocking_failed)} blocking check "
            f"failure(s); the full event log is {log}"
        )


@main.command()
@click.option("--sf", type=float, default=0.01, show_default=True, callback=scale_factor,
              help=f"TPC-H scale factor, at least {MIN_SCALE_FACTOR}.")
@click.option("--days", type=click.IntRange(1, 365), default=3, show_default=True, help="Days of history before the incremental day.")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Simulator seed (default: the simulator's).")
@click.option("--root", type=click.Path(path_type=Path), default=Path(".lakehouse") / "bench", show_default=True,
              help="Warehouse root for the bench; its layers are deleted first.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="JSON report (default: <root>/bench.json); Markdown beside it.")
@click.option("--engine", type=click.Choice(ENGINES), default=None,
              help="Engine of the silver and gold jobs (default: LAKEHOUSE_ENGINE, else duckdb).")
def bench(sf: float, days: int, seed: int | None, root: Path, out: Path | None, engine: str | None) -> None:
    """Simulate, run every stage on the local profile, measure the floors and one more day; write JSON and Markdown."""
    try:
        from lakehouse.bench import BenchError, run_bench, write_report
        from lakehouse.bench.run import command_line
    except ImportError as error:
        raise click.ClickException(f"lakehouse bench needs {error.name}: pip install -c constraints.txt -e '.[bench]'") from error
    from lakehouse.sources import DEFAULT_SEED

    try:
        engine = engine or local_engine(os.environ)
    except SettingsError as error:
        raise click.BadParameter(str(error), param_hint="--engine") from error
    path = _use_root(writable_root(root).resolve())
    if out is not None:
        writable_root(out.parent, "--out")
    try:
        report = run_bench(path, sf, days, DEFAULT_SEED if seed is None else seed, engine, command_line(), console)
    except BenchError as error:
        raise click.ClickException(str(error)) from error
    md = write_report(report, out or path / "bench.json")
    click.echo(md.read_text())
    console.print(f"report: {out or path / 'bench.json'} and {md}")


@main.command()
@click.argument("sql")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@root_option
def query(sql: str, fmt: str, root: Path | None) -> None:
    """Run one read-only Athena (Trino) statement over the catalogued tables: SELECT, SHOW TABLES, DESCRIBE, ..."""
    from lakehouse.query_cli import run_query

    run_query(sql, fmt, root)


@main.command("deploy-glue")
def deploy_glue() -> None:
    """Upload glue_scripts to the scripts bucket (SSE-KMS) and create or update every Glue job (aws profile)."""
    from lakehouse.deploy import deploy_glue_jobs

    try:
        settings = load_settings()
    except SettingsError as error:
        raise click.ClickException(str(error)) from error
    if not settings.is_aws:
        raise click.ClickException("deploy-glue needs LAKEHOUSE_ENV=aws and the aws profile's variables")
    for job, script in deploy_glue_jobs(settings).items():
        console.print(f"{job}: {script}")


@main.command("serve-api")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8765, show_default=True)
@root_option
def serve_api(host: str, port: int, root: Path | None) -> None:
    """Serve the simulated CRM API (customers) until interrupted."""
    from lakehouse.sources import serve_api as serve

    path = _use_root(root)
    console.print(f"serving the CRM API for {path / 'sources'} on http://{host}:{port}")
    serve(path, host=host, port=port)


if __name__ == "__main__":
    main()

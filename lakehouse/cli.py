"""The `lakehouse` command: simulate | run | bench | query | serve-api."""

from __future__ import annotations

import os
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from lakehouse.settings import DEFAULT_ROOT, SettingsError, load_settings

console = Console(stderr=True)

root_option = click.option(
    "--root", type=click.Path(path_type=Path), default=None,
    help=f"Warehouse root (default: $LAKEHOUSE_ROOT or {DEFAULT_ROOT}).",
)


def _world_options(fn):  # type: ignore[no-untyped-def]
    from lakehouse.sources import DEFAULT_SEED, DEFAULT_START_DATE

    fn = click.option("--start-date", type=click.DateTime(["%Y-%m-%d"]), default=str(DEFAULT_START_DATE), show_default=True)(fn)
    fn = click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)(fn)
    fn = click.option("--days", type=click.IntRange(1, 366), default=3, show_default=True)(fn)
    fn = click.option("--sf", type=float, default=0.01, show_default=True, help="TPC-H scale factor.")(fn)
    return fn


def _use_root(root: Path | None) -> Path:
    if root is not None:
        os.environ["LAKEHOUSE_ROOT"] = str(root)
    try:
        return load_settings().root
    except SettingsError as error:
        raise click.ClickException(str(error)) from error


@click.group()
def main() -> None:
    """A Dagster lakehouse on AWS Glue, S3, Athena and Snowflake (or their local stand-ins)."""


@main.command()
@_world_options
@click.option("--db-url", default=None, help="PostgreSQL URL for the database source (default: SQLite under the root).")
@click.option("--stage-only", is_flag=True, help="Stage every day's files without delivering them to landing/.")
@root_option
def simulate(sf: float, days: int, seed: int, start_date: object, db_url: str | None, stage_only: bool, root: Path | None) -> None:
    """Generate the four source systems from TPC-H, with seeded faults and a ground-truth manifest."""
    from lakehouse.sources import simulate as run_simulation

    path = _use_root(root)
    manifest = run_simulation(path, sf=sf, days=days, seed=seed, start_date=start_date.date(),  # type: ignore[attr-defined]
                              db_url=db_url, stage_only=stage_only, progress=True)
    console.print(f"simulated {len(manifest['days'])} days at SF {sf} (seed {seed}) under {path / 'sources'}")


@main.command()
@_world_options
@root_option
def run(sf: float, days: int, seed: int, start_date: object, root: Path | None) -> None:
    """Simulate the sources if missing, then materialize every asset for every ingestion day."""
    from lakehouse.pipeline import run_days, use_instance
    from lakehouse.sources import load_manifest, simulate as run_simulation

    path = _use_root(root)
    wanted = {"scale_factor": sf, "seed": seed, "days": days, "start_date": start_date.date().isoformat()}  # type: ignore[attr-defined]
    manifest = load_manifest(path) if (path / "sources" / "manifest.json").exists() else None
    if manifest is None or any(_manifest_value(manifest, k) != v for k, v in wanted.items()):
        console.print(f"simulating sources ({wanted}) under {path / 'sources'}")
        manifest = run_simulation(path, sf=sf, days=days, seed=seed, start_date=start_date.date(), progress=True)  # type: ignore[attr-defined]
    summary = run_days([str(d) for d in manifest["days"]], use_instance(path), console)
    from lakehouse.summary import table_rows

    summary.table_rows = table_rows()
    _print_summary(summary)
    if not summary.ok:
        raise click.ClickException(
            f"pipeline failed: {len(summary.failed_runs)} failed run(s), {len(summary.blocking_failed)} blocking check failure(s)"
        )


def _manifest_value(manifest: dict, key: str) -> object:
    value = manifest.get(key)
    return len(value) if key == "days" and isinstance(value, list) else value


def _print_summary(summary) -> None:  # type: ignore[no-untyped-def]
    table = Table(title="lakehouse run")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in summary.table_rows.items():
        table.add_row(name, f"{rows:,}")
    Console().print(table)
    console.print(f"days: {', '.join(summary.days)}")
    console.print(f"checks passed: {summary.checks_passed}, failed: {len(summary.checks_failed)}")
    for label in summary.checks_failed:
        console.print(f"  failed check {label}")
    for label in summary.failed_runs:
        console.print(f"  failed run {label}")


@main.command()
@click.option("--sf", type=float, default=0.01, show_default=True, help="TPC-H scale factor.")
@click.option("--days", type=click.IntRange(1, 365), default=3, show_default=True, help="Days of history before the incremental day.")
@click.option("--seed", type=int, default=None, help="Simulator seed (default: the simulator's).")
@click.option("--root", type=click.Path(path_type=Path), default=Path(".lakehouse") / "bench", show_default=True,
              help="Warehouse root for the bench; its layers are deleted first.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="JSON report (default: <root>/bench.json); Markdown beside it.")
def bench(sf: float, days: int, seed: int | None, root: Path, out: Path | None) -> None:
    """Simulate, run every stage on the local profile, measure the floors and one more day; write JSON and Markdown."""
    try:
        from lakehouse.bench import BenchError, run_bench, write_report
        from lakehouse.bench.run import command_line
    except ImportError as error:
        raise click.ClickException(f"lakehouse bench needs {error.name}: pip install -c constraints.txt -e '.[bench]'") from error
    from lakehouse.sources import DEFAULT_SEED

    path = _use_root(root.resolve())
    try:
        report = run_bench(path, sf, days, DEFAULT_SEED if seed is None else seed, command_line(), console)
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

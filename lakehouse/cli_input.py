"""Input checks of the `lakehouse` command, made before any work: one line naming the option, exit code 2."""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import click

from lakehouse.settings import LAYERS

# tpchgen-cli generates no rows below SF 0.0001 (it panics), and at SF 0 the simulator has nothing to sample.
MIN_SCALE_FACTOR = 0.0001
# Everything `lakehouse run` keeps under a root: what --reset clears (and nothing else under it).
ROOT_CONTENTS: tuple[str, ...] = ("sources", *LAYERS, "catalog", "snowflake", "metrics", "dagster", "logs")
WORLD_KEYS: tuple[str, ...] = ("scale_factor", "days", "seed", "start_date")


class InputError(click.UsageError):
    """Bad command-line input: shown as one line, exit code 2."""

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", file=file, err=True)


class OneLineErrors(click.Group):
    """A group whose usage errors, its own and click's, are one line without the usage text."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except (InputError, click.exceptions.NoArgsIsHelpError):
            raise
        except click.UsageError as error:
            raise InputError(error.format_message()) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (InputError, click.exceptions.NoArgsIsHelpError):
            raise
        except click.UsageError as error:
            raise InputError(error.format_message()) from None


def scale_factor(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """`--sf`: a finite TPC-H scale factor of at least MIN_SCALE_FACTOR."""
    if not math.isfinite(value) or value < MIN_SCALE_FACTOR:
        raise InputError(f"--sf must be a number of at least {MIN_SCALE_FACTOR} (TPC-H's smallest scale with rows), got {value}")
    return value


def writable_root(path: Path, option: str = "--root") -> Path:
    """The root as an absolute path, if it is (or can be created as) a writable directory; creates nothing."""
    path = path.expanduser().absolute()
    if path.exists() and not path.is_dir():
        raise InputError(f"{option} {path} is a file, not a directory")
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        raise InputError(f"{option} {path} cannot be created: {existing} is a file")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise InputError(f"{option} {path} is not writable: {error.strerror} ({existing})") from None
    return path


def root_in_use(root: Path) -> list[str]:
    """The pipeline's outputs a root already holds (layers, catalog, Snowflake), by folder name."""
    built = [name for name in ROOT_CONTENTS if name not in ("sources", "landing", "dagster", "logs")]
    return [name for name in built if (root / name).is_dir() and any((root / name).iterdir())]


def world_of(root: Path) -> dict[str, Any] | None:
    """The parameters of the world simulated under `root` (from its manifest), or None when there is none."""
    from lakehouse.sources import load_manifest

    if not (root / "sources" / "manifest.json").exists():
        return None
    manifest = load_manifest(root)
    return {k: len(manifest[k]) if k == "days" else manifest.get(k) for k in WORLD_KEYS}


def refuse_other_world(root: Path, wanted: dict[str, Any], reset: bool) -> None:
    """Refuse a root that holds another world (or layers of an unknown one) unless `--reset` clears it first."""
    world, used = world_of(root), root_in_use(root)
    if reset:
        clear_root(root)
        return
    if world is not None and world != wanted:
        differ = ", ".join(f"{k} {world[k]} (asked {wanted[k]})" for k in WORLD_KEYS if world[k] != wanted[k])
        raise InputError(f"--root {root} holds a world simulated with other parameters: {differ}; "
                         "pass --reset to clear it (every layer, the catalog and the Dagster instance) or use another --root")
    if world is None and used:
        raise InputError(f"--root {root} holds {', '.join(used)} but no simulated world (sources/manifest.json); "
                         "pass --reset to clear it or use another --root")


def clear_root(root: Path) -> None:
    """Delete every part of a lakehouse under `root` (sources, layers, catalog, Snowflake, instance, logs)."""
    for name in ROOT_CONTENTS:
        shutil.rmtree(root / name, ignore_errors=True)


def root_from(root: Path | None) -> Path:
    """The checked root: `--root`, else $LAKEHOUSE_ROOT, else the default; exported as LAKEHOUSE_ROOT."""
    from lakehouse.settings import DEFAULT_ROOT

    if root is not None:
        path = writable_root(root)
    else:
        path = writable_root(Path(os.environ.get("LAKEHOUSE_ROOT") or DEFAULT_ROOT),
                             "LAKEHOUSE_ROOT" if os.environ.get("LAKEHOUSE_ROOT") else "--root")
    os.environ["LAKEHOUSE_ROOT"] = str(path)
    return path

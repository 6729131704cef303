"""Delivery: copy the files staged for an arrival day into the landing zone."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path


def staged_days(root: Path) -> list[str]:
    """Arrival days that have staged files, in order."""
    drops = Path(root) / "sources" / "drops"
    return sorted(p.name.removeprefix("arrival=") for p in drops.glob("arrival=*")) if drops.exists() else []


def deliver(root: Path, day: date | str) -> list[Path]:
    """Copy every file arriving on `day` from `sources/drops/arrival=<day>/` into `landing/`; return the landed paths."""
    root = Path(root)
    staged = root / "sources" / "drops" / f"arrival={day}"
    if not staged.exists():
        raise FileNotFoundError(f"nothing staged for {day} under {staged}; run `lakehouse simulate` first")
    landed = []
    for source in sorted(p for p in staged.rglob("*") if p.is_file()):
        target = root / "landing" / source.relative_to(staged)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        landed.append(target)
    return landed

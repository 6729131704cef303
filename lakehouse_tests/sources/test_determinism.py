"""Same arguments and seed give byte-identical files; another seed gives different faults."""

from __future__ import annotations

import hashlib
from pathlib import Path

from lakehouse.sources import simulate
from lakehouse_tests.sources.conftest import DAYS, SEED, SF


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in ("sources", "landing") for p in sorted((root / folder).rglob("*")) if p.is_file()
    }


def test_same_seed_gives_identical_bytes(world: Path, tmp_path: Path) -> None:
    again = simulate(tmp_path, sf=SF, days=DAYS, seed=SEED, progress=False)
    first, second = _hashes(world), _hashes(tmp_path)
    assert len(first) > 100 and first == second
    assert again["days"] == ["2024-01-01", "2024-01-02", "2024-01-03"]


def test_regenerating_overwrites_the_world(tmp_path: Path) -> None:
    simulate(tmp_path, sf=0.001, days=2, seed=1, progress=False)
    stray = tmp_path / "landing" / "files" / "part" / "ingestion_date=1999-01-01" / "x.csv"
    stray.parent.mkdir(parents=True)
    stray.write_text("x\n")
    before = _hashes(tmp_path)
    simulate(tmp_path, sf=0.001, days=2, seed=1, progress=False)
    after = _hashes(tmp_path)
    assert not stray.exists() and after == {k: v for k, v in before.items() if "1999" not in k}


def test_another_seed_gives_different_faults(world: Path, manifest: dict, tmp_path: Path) -> None:
    other = simulate(tmp_path, sf=SF, days=DAYS, seed=SEED + 1, progress=False)
    assert other["tables"] != manifest["tables"]
    assert other["tables"]["db__orders"]["days"] != manifest["tables"]["db__orders"]["days"]
    first, second = _hashes(world), _hashes(tmp_path)
    assert first["sources/tpch/orders.parquet"] == second["sources/tpch/orders.parquet"]
    assert first["sources/db/source.sqlite"] != second["sources/db/source.sqlite"]
    assert first["sources/api/customers.jsonl"] != second["sources/api/customers.jsonl"]

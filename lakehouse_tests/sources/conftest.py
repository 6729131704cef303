"""One simulated world per test session (SF 0.01, three days), shared by the source tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.sources import simulate

SF, DAYS, SEED = 0.01, 3, 7


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The root of a world simulated with SQLite and every day delivered."""
    root = tmp_path_factory.mktemp("world")
    simulate(root, sf=SF, days=DAYS, seed=SEED, progress=False)
    return root


@pytest.fixture(scope="session")
def manifest(world: Path) -> dict:
    """The world's manifest."""
    from lakehouse.sources import load_manifest

    return load_manifest(world)

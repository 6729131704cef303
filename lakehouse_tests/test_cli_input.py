"""Bad `lakehouse` input is refused before any work: one line naming the option, exit code 2, no traceback,
nothing created; a root holding another world is refused unless `--reset` clears it."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lakehouse.cli import main

TINY = ["--sf", "0.0001", "--days", "1"]


@pytest.fixture(autouse=True)
def own_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The CLI exports LAKEHOUSE_ROOT and DAGSTER_HOME; give them back after each test."""
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path / "unused"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "unused" / "dagster"))
    monkeypatch.delenv("LAKEHOUSE_ENV", raising=False)


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _one_line_error(result: Result, *words: str) -> str:
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit), "an error other than the one-line exit"
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("args, option", [
    (["simulate", "--sf", "0"], "--sf"),
    (["simulate", "--sf", "-1"], "--sf"),
    (["run", "--sf", "0.00005"], "--sf"),
    (["run", "--sf", "nan"], "--sf"),
    (["run", "--sf", "abc"], "--sf"),
    (["simulate", "--days", "0"], "--days"),
    (["run", "--days", "400"], "--days"),
    (["simulate", "--seed", "-1"], "--seed"),
    (["run", "--seed", "x"], "--seed"),
    (["simulate", "--start-date", "2024-13-01"], "--start-date"),
    (["bench", "--sf", "0"], "--sf"),
    (["bench", "--days", "0"], "--days"),
])
def test_bad_world_options_are_one_line_with_exit_code_2_and_create_nothing(tmp_path: Path, args: list[str], option: str) -> None:
    root = tmp_path / "root"
    _one_line_error(_invoke(*args, "--root", str(root)), option)
    assert not root.exists()


def test_a_file_or_unwritable_root_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "file"
    file.write_text("not a folder")
    _one_line_error(_invoke("simulate", *TINY, "--root", str(file)), "--root", "is a file")
    _one_line_error(_invoke("run", *TINY, "--root", str(file / "under")), "--root", "cannot be created")
    _one_line_error(_invoke("simulate", *TINY, "--root", "/proc/lakehouse-root"), "--root", "not writable")
    _one_line_error(_invoke("bench", "--root", str(file)), "--root")
    assert file.read_text() == "not a folder"


def test_a_bad_lakehouse_root_variable_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "file"
    file.write_text("")
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(file))
    _one_line_error(_invoke("run", *TINY), "LAKEHOUSE_ROOT", "is a file")


def test_a_root_holding_another_world_is_refused_unless_reset(tmp_path: Path) -> None:
    root = tmp_path / "world"
    assert _invoke("simulate", *TINY, "--root", str(root)).exit_code == 0
    manifest = (root / "sources" / "manifest.json").read_text()
    landing = sorted(p.relative_to(root) for p in (root / "landing").rglob("*"))

    line = _one_line_error(_invoke("simulate", "--sf", "0.0001", "--days", "2", "--root", str(root)), "--root", "--reset")
    assert "days 1 (asked 2)" in line
    _one_line_error(_invoke("run", "--sf", "0.0002", "--days", "1", "--root", str(root)), "scale_factor 0.0001 (asked 0.0002)")
    assert (root / "sources" / "manifest.json").read_text() == manifest
    assert sorted(p.relative_to(root) for p in (root / "landing").rglob("*")) == landing
    assert not (root / "logs").exists() and not (root / "dagster").exists()

    (root / "bronze" / "db__orders").mkdir(parents=True)
    (root / "dagster").mkdir()
    (root / "catalog").mkdir()
    reset = _invoke("simulate", "--sf", "0.0001", "--days", "2", "--reset", "--root", str(root))
    assert reset.exit_code == 0, reset.output
    assert len(json.loads((root / "sources" / "manifest.json").read_text())["days"]) == 2
    assert not (root / "bronze").exists() and not (root / "dagster").exists() and not (root / "catalog").exists()


def test_layers_without_a_simulated_world_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "layers"
    (root / "silver" / "orders").mkdir(parents=True)
    _one_line_error(_invoke("run", *TINY, "--root", str(root)), "no simulated world", "--reset")
    assert not (root / "sources").exists()


def test_readme_documents_every_command_and_option() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for name, command in main.commands.items():
        assert f"`lakehouse {name}" in readme, name
        options = [o for p in command.params for o in p.opts if o.startswith("--") and o != "--help"]
        assert not [o for o in options if f"`{o}" not in readme], name

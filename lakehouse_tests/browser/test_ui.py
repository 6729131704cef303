"""Drive the real Dagster UI in Chromium: see the asset graph, materialize one bronze partition, read its results,
then find a failed check on its own partition and the catalog's partition count after the world's three days.

A module fixture starts `dagster dev` against a throw-away warehouse root and DAGSTER_HOME; the tests use
Playwright's sync API with Debian's Chromium. Screenshots go to test-artifacts/browser/ (git-ignored).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from lakehouse_tests.browser.dagster_dev import DAGSTER, REPO, DagsterDev, start_dagster_dev

from playwright.sync_api import Browser, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

pytestmark = pytest.mark.browser
# The UI renders slowly on a loaded 2-core machine: assertions wait as long as actions do.
expect.set_options(timeout=30_000)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO / "test-artifacts" / "browser"
PARTITION = "2024-01-02"
ASSET_PATH = "bronze/files__region"
CHECKS = ("has_no_corrupt_files", "not_empty_when_source_delivered", "rows_match_source", "schema_matches_previous_partition",
          "records_accounted_for", "landing_has_no_unread_names")
RUN_TIMEOUT_S = 600  # a Spark run in a fresh process, on a loaded machine
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

REGION_CSV = """\
r_regionkey,r_name,r_comment,updated_at
0,AFRICA,"lar deposits. blithely final packages cajole, regular waters",2024-01-02T01:00:00Z
1,AMERICA,"hs use ironic, even requests. s",2024-01-02T01:00:00Z
2,ASIA,ges. thinly even pinto beans ca,2024-01-02T01:00:00Z
3,EUROPE,ly final courts cajole furiously final excuse,2024-01-02T01:00:00Z
4,MIDDLE EAST,uickly special accounts cajole carefully blithely close requests,2024-01-02T01:00:00Z
"""


@dataclass
class Lakehouse:
    """The running UI and the warehouse root it reads."""

    dev: DagsterDev
    root: Path
    dagster_home: Path
    env: dict[str, str]


def _processes_with_env(marker: str) -> list[int]:
    """PIDs of live processes whose environment holds `marker` (our DAGSTER_HOME): what we started."""
    needle = marker.encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


@pytest.fixture(scope="module")
def lakehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lakehouse]:
    """`dagster dev` on a free 127.0.0.1 port, with a temp warehouse root holding one region file drop."""
    base = tmp_path_factory.mktemp("browser")
    root = base / "warehouse"
    home = base / "dagster_home"
    home.mkdir()
    root.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "DAGSTER_"))}
    env.update(
        DAGSTER_HOME=str(home),
        LAKEHOUSE_ENV="local",
        LAKEHOUSE_ROOT=str(root),
        SPARK_LOCAL_IP="127.0.0.1",
        PYTHONUNBUFFERED="1",
    )
    dev = start_dagster_dev(env, base / "dagster-dev.log")
    env_marker = f"DAGSTER_HOME={home}"
    try:
        dev.wait_ready(timeout=300)  # a cold start on a loaded 2-core machine takes minutes
        # Sensors and schedules default to RUNNING: the landing sensor would materialize the file drop on its
        # own. Stop them all first, then deliver the file, so the browser launches the only run.
        dev.stop_automation()
        landing = root / "landing" / "files" / "region" / f"ingestion_date={PARTITION}"
        landing.mkdir(parents=True)
        (landing / "region.csv").write_text(REGION_CSV)
        yield Lakehouse(dev=dev, root=root, dagster_home=home, env=env)
    finally:
        dev.stop(timeout=20)
        strays = _processes_with_env(env_marker)
        for pid in strays:  # children that left the process group (none expected); all started by this fixture
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        assert not strays, f"processes outlived the dagster dev process group: {strays}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"failure-{request.node.name}.png").unlink(missing_ok=True)
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.set_default_timeout(30_000)
    tab = context.new_page()
    try:
        yield tab
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is None or report.failed:
            try:
                tab.screenshot(path=ARTIFACTS / f"failure-{request.node.name}.png", full_page=True)
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass
        context.close()


def test_asset_graph_shows_bronze_and_silver(lakehouse: Lakehouse, page: Page) -> None:
    page.goto(f"{lakehouse.dev.url}/asset-groups")
    expect(page.get_by_text("Global asset lineage", exact=True)).to_be_visible()
    # Collapsed group nodes first: one per layer.
    for group in ("bronze", "silver"):
        expect(page.locator(f'[data-tooltip="{group}"]')).to_be_visible()
    # "Expand all groups" (⌥E, also in the graph settings menu) shows the assets inside the groups.
    page.keyboard.press("Alt+e")
    expect(page).to_have_url(re.compile(r"expanded=.*bronze.*silver|expanded=.*silver.*bronze"))
    for asset in ("files__region", "files__nation", "db__orders", "region", "nation", "lineitem"):
        expect(page.get_by_text(asset, exact=True).first).to_be_visible()
    page.wait_for_timeout(500)  # let the zoom-to-fit animation settle for the screenshot
    page.screenshot(path=ARTIFACTS / "graph.png")


def test_materialize_partition_from_ui(lakehouse: Lakehouse, page: Page) -> None:
    dev = lakehouse.dev
    runs_before = {r["runId"] for r in _runs(dev)}
    assert not runs_before, f"no run should exist before the browser launches one: {runs_before}"

    # --- launch: asset page -> Materialize… -> partition dialog -> Launch 1 run
    page.goto(f"{dev.url}/assets/{ASSET_PATH}")
    page.get_by_role("button", name="Materialize…").first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Launch runs to materialize bronze / files__region")).to_be_visible()
    partition_input = dialog.get_by_role("textbox").first
    expect(partition_input).to_be_visible()
    # The dialog first offers only the last 90 days (range button "Last 90 days" plus a "Show all partitions"
    # notice); 2024-01-02 is older than that, so widen the range to "All time" first.
    range_button = dialog.get_by_role("button").filter(has_text=re.compile(r"^\s*(Last \d+ days|All time)\s*$"))
    expect(range_button).to_be_visible()
    if "All time" not in range_button.inner_text():
        dialog.get_by_role("button", name="Show all partitions").click()
    expect(range_button).to_have_text(re.compile("All time"))
    partition_input.fill(PARTITION)
    partition_input.press("Enter")
    launch = dialog.get_by_role("button", name="Launch 1 run", exact=True)
    expect(launch).to_be_enabled()
    launch.click()
    expect(dialog).to_be_hidden()

    # --- follow the "Launched run <id>" toast to the run page
    view = page.get_by_role("link", name="View", exact=True)
    try:
        expect(view).to_have_attribute("href", re.compile(rf"/runs/{UUID}$"), timeout=15_000)
        run_id = re.search(UUID, view.get_attribute("href") or "").group(0)
        expect(page.get_by_text(f"Launched run {run_id[:8]}").first).to_be_visible()
        view.click(timeout=5_000)
    except (AssertionError, PlaywrightError):
        # The toast is transient: if it is gone, take the run the browser just launched from GraphQL.
        new_runs = [r["runId"] for r in _runs(dev) if r["runId"] not in runs_before]
        assert len(new_runs) == 1, f"expected exactly one run launched from the UI, got {new_runs}"
        run_id = new_runs[0]
        page.goto(f"{dev.url}/runs/{run_id}")
    expect(page).to_have_url(re.compile(rf"/runs/{run_id}"))

    # --- wait for success on the run page (GraphQL only to fail fast on a failed run)
    status_tag = page.get_by_text("Success", exact=True).first
    deadline = time.monotonic() + RUN_TIMEOUT_S
    status = None
    while time.monotonic() < deadline:
        if status_tag.is_visible():
            break
        status = _run(dev, run_id)["status"]
        if status in ("FAILURE", "CANCELED"):
            page.screenshot(path=ARTIFACTS / "run.png")
            pytest.fail(f"run {run_id} ended {status}:\n{_run_errors(dev, run_id)}\n--- dagster dev log ---\n{dev.log_tail()}")
        page.wait_for_timeout(1000)
    else:
        page.screenshot(path=ARTIFACTS / "run.png")
        pytest.fail(f"run {run_id} not successful in the UI after {RUN_TIMEOUT_S}s (GraphQL status {status})")
    expect(page.get_by_text(f"partition: {PARTITION}").first).to_be_visible()
    expect(page.get_by_text("RUN_SUCCESS").first).to_be_visible()
    expect(page.get_by_text("Succeeded (1)", exact=True)).to_be_visible()
    page.wait_for_timeout(500)  # let the Gantt chart catch up with the final events
    page.screenshot(path=ARTIFACTS / "run.png")

    # Confirm through GraphQL: the browser's run, for the one partition, succeeded; nothing else ran.
    run = _run(dev, run_id)
    assert run["status"] == "SUCCESS"
    assert {t["key"]: t["value"] for t in run["tags"]}.get("dagster/partition") == PARTITION
    assert [k["path"] for k in run["assetSelection"]] == [ASSET_PATH.split("/")]
    assert {r["runId"] for r in _runs(dev)} == {run_id}

    # --- asset page, overview: latest materialization is our partition, row count 5
    page.goto(f"{dev.url}/assets/{ASSET_PATH}")
    latest = page.get_by_text("Latest materialization", exact=True).locator("..")
    expect(latest).to_contain_text(PARTITION)
    row_count = page.get_by_text("Row count", exact=True).locator("..")
    expect(row_count).to_contain_text("5")
    expect(page.get_by_text("Latest check results", exact=True).locator("..")).to_contain_text(str(len(CHECKS)))
    page.screenshot(path=ARTIFACTS / "asset.png")

    # --- partitions tab: 2024-01-02 is materialized by our run, with its metadata
    page.get_by_role("tab", name="Partitions").click()
    expect(page.get_by_text("Materialized (1)", exact=True)).to_be_visible()
    page.get_by_placeholder(re.compile("Filter by name")).fill(PARTITION)
    page.get_by_text(PARTITION, exact=True).first.click()
    expect(page).to_have_url(re.compile(rf"partition={PARTITION}"))
    expect(page.get_by_text("Materialized", exact=True).first).to_be_visible()
    expect(page.get_by_role("link", name=run_id[:8]).first).to_be_visible()
    row_count_entry = page.get_by_role("row").filter(has_text="dagster/row_count")
    expect(row_count_entry).to_contain_text("5")
    page.screenshot(path=ARTIFACTS / "asset-partition.png")

    # --- checks tab: every check succeeded; rows_match_source passed with 5 read / 5 written
    page.get_by_role("tab", name="Checks").click()
    expect(page.get_by_text(f"Checks ({len(CHECKS)})", exact=True)).to_be_visible()
    for check in CHECKS:
        expect(page.get_by_title(check, exact=True).first.locator("..")).to_contain_text("Succeeded")
    page.get_by_title("rows_match_source", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"checkDetail=rows_match_source"))
    expect(page.get_by_text("Passed", exact=True).first).to_be_visible()
    for label in ("rows_read", "rows_written"):
        expect(page.get_by_role("row").filter(has_text=label).first).to_contain_text("5")
    page.screenshot(path=ARTIFACTS / "asset-checks.png")

    # Confirm through GraphQL: the materialization and the four check results belong to our run.
    node = dev.graphql(
        """query($key: AssetKeyInput!, $partition: String!) { assetNodeOrError(assetKey: $key) { ... on AssetNode {
            assetMaterializations(partitions: [$partition]) { runId partition
                metadataEntries { label ... on IntMetadataEntry { intValue } } }
            assetChecksOrError { ... on AssetChecks { checks { name
                executionForLatestMaterialization { status runId } } } } } } }""",
        {"key": {"path": ASSET_PATH.split("/")}, "partition": PARTITION},
    )["assetNodeOrError"]
    [materialization] = node["assetMaterializations"]
    assert materialization["runId"] == run_id
    metadata = {e["label"]: e.get("intValue") for e in materialization["metadataEntries"]}
    assert metadata["dagster/row_count"] == 5
    assert metadata["source_rows"] == 5
    checks = {c["name"]: c["executionForLatestMaterialization"] for c in node["assetChecksOrError"]["checks"]}
    assert set(checks) == set(CHECKS)
    assert all(c and c["status"] == "SUCCEEDED" and c["runId"] == run_id for c in checks.values()), checks


WORLD_DAYS = ("2024-01-01", "2024-01-02", "2024-01-03")
BAD_DAY = WORLD_DAYS[-1]
NOT_UTF8 = b"r_regionkey,r_name,r_comment,updated_at\n3,EUROPE,\xff\xfe not utf-8,2024-01-03T00:10:00Z\n"


def _partition_count(env: dict[str, str]) -> int:
    """How many partitions the ingestion-day definition has for the UI's own environment, asked of a fresh process."""
    code = "from lakehouse.defs.common import INGESTION_DAYS; print(len(INGESTION_DAYS.get_partition_keys()))"
    return int(subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, check=True, capture_output=True, text=True).stdout)


def test_a_failed_check_shows_on_its_own_partition(lakehouse: Lakehouse, page: Page) -> None:
    # The world's three region drops, the last with an unreadable file, materialized as one range run by the
    # CLI against the UI's instance (a single-run backfill: one Glue run, one check evaluation per day).
    for day in WORLD_DAYS:
        landing = lakehouse.root / "landing" / "files" / "region" / f"ingestion_date={day}"
        landing.mkdir(parents=True, exist_ok=True)
        (landing / "region.csv").write_text(REGION_CSV.replace(f"{PARTITION}T", f"{day}T"))
    (lakehouse.root / "landing" / "files" / "region" / f"ingestion_date={BAD_DAY}" / "region-bad.csv").write_bytes(NOT_UTF8)
    subprocess.run([str(DAGSTER), "asset", "materialize", "-m", "lakehouse.definitions", "--select", ASSET_PATH,
                    "--partition-range", f"{WORLD_DAYS[0]}...{WORLD_DAYS[-1]}"],
                   env=lakehouse.env, cwd=REPO, check=True, capture_output=True, timeout=RUN_TIMEOUT_S * 2)
    total = _partition_count(lakehouse.env)

    # --- the catalog: three materialized partitions of the definition's total, the rest missing
    page.goto(f"{lakehouse.dev.url}/assets/{ASSET_PATH}?view=partitions")
    expect(page.get_by_text("Materialized (3)", exact=True)).to_be_visible(timeout=60_000)
    expect(page.get_by_text(f"{total:,} Partitions Selected", exact=True)).to_be_visible()
    expect(page.get_by_text(f"Missing ({total - 3})", exact=True)).to_be_visible()
    page.screenshot(path=ARTIFACTS / "asset-partitions-world.png")

    # --- the check's partitions: failed on the bad day only, with the quarantined file counted there
    page.goto(f"{lakehouse.dev.url}/assets/{ASSET_PATH}?view=checks&checkDetail=has_no_corrupt_files")
    expect(page.get_by_title("has_no_corrupt_files", exact=True).first.locator("..")).to_contain_text("Failed", timeout=60_000)
    page.locator('button[role="tab"][title="Partitions"]').click()  # the check's tab; the asset's is a link
    expect(page.get_by_text("Failed (1)", exact=True)).to_be_visible()
    expect(page.get_by_text("Passed (2)", exact=True)).to_be_visible()
    page.get_by_placeholder(re.compile("Filter by partition")).fill(BAD_DAY)
    # The partition list's visible entry (the list also renders a hidden copy to measure truncation), after the
    # status bar whose end label is the same date.
    page.get_by_text(BAD_DAY, exact=True).filter(visible=True).last.click()
    detail = page.locator("div").filter(has=page.get_by_text("Latest execution", exact=True)).filter(
        has=page.get_by_text(BAD_DAY, exact=True)).last
    expect(detail).to_contain_text("Failed")
    expect(detail).to_contain_text("View all historical executions (1)")
    expect(page.get_by_role("row").filter(has_text="count").first).to_contain_text("1")
    page.screenshot(path=ARTIFACTS / "check-partition-failed.png")

    # Confirm from the instance: the check failed on the bad day and passed on the others, each current.
    with dg.DagsterInstance.from_config(str(lakehouse.dagster_home)) as instance:
        infos = instance.event_log_storage.get_asset_check_partition_info(
            [dg.AssetCheckKey(dg.AssetKey(ASSET_PATH.split("/")), "has_no_corrupt_files")])
    assert {i.partition_key: (i.latest_execution_status.value, i.is_current) for i in infos} == {
        day: ("FAILED" if day == BAD_DAY else "SUCCEEDED", True) for day in WORLD_DAYS}


def _runs(dev: DagsterDev) -> list[dict]:
    return dev.graphql("{ runsOrError { ... on Runs { results { runId status } } } }")["runsOrError"]["results"]


def _run(dev: DagsterDev, run_id: str) -> dict:
    return dev.graphql(
        """query($id: ID!) { runOrError(runId: $id) { __typename ... on Run {
            status tags { key value } assetSelection { path } } } }""",
        {"id": run_id},
    )["runOrError"]


def _run_errors(dev: DagsterDev, run_id: str) -> str:
    data = dev.graphql(
        """query($id: ID!) { logsForRun(runId: $id) { ... on EventConnection { events { __typename
            ... on MessageEvent { message }
            ... on ExecutionStepFailureEvent { error { message stack } }
            ... on RunFailureEvent { pipelineRunId } } } } }""",
        {"id": run_id},
    )
    events = data["logsForRun"].get("events") or []
    lines = []
    for event in events:
        if event["__typename"] in ("ExecutionStepFailureEvent", "RunFailureEvent", "EngineEvent"):
            error = event.get("error") or {}
            lines.append(f"{event['__typename']}: {event.get('message', '')} {error.get('message', '')}")
            lines.extend(error.get("stack") or [])
    return "\n".join(lines)

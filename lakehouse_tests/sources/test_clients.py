"""Each source read back by a real client: PostgreSQL, the HTTP API, S3 (moto), and delivery into landing/."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import psycopg2
import requests

from lakehouse.sources import deliver, make_api_server, simulate, upload_landing


def _counts_per_day(cursor, table: str, days: list[str], mark: str) -> list[int]:
    out = []
    for day in days:
        end = f"{date.fromisoformat(day) + timedelta(days=1)} 00:00:00"
        cursor.execute(f"SELECT count(*) FROM {table} WHERE updated_at >= {mark} AND updated_at < {mark}", (f"{day} 00:00:00", end))
        out.append(cursor.fetchone()[0])
    return out


def test_postgres_holds_the_same_change_tables_as_sqlite(postgres_url: str, tmp_path: Path) -> None:
    pg_manifest = simulate(tmp_path / "pg", sf=0.001, days=2, seed=3, db_url=postgres_url, progress=False)
    simulate(tmp_path / "lite", sf=0.001, days=2, seed=3, progress=False)
    assert pg_manifest["db"] == {"kind": "postgresql"}
    assert not (tmp_path / "pg" / "sources" / "db" / "source.sqlite").exists()
    with psycopg2.connect(postgres_url) as pg, sqlite3.connect(tmp_path / "lite" / "sources" / "db" / "source.sqlite") as lite:
        for table in ("orders", "lineitem"):
            cur = pg.cursor()
            expected = [c["rows_delivered"] for c in pg_manifest["tables"][f"db__{table}"]["days"].values()]
            assert _counts_per_day(cur, table, pg_manifest["days"], "%s") == expected
            cur.execute(f"SELECT * FROM {table}")
            pg_rows = sorted(cur.fetchall(), key=repr)
            lite_rows = sorted(lite.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
            assert pg_rows == lite_rows and any(None in r for r in pg_rows)
            cur.execute("SELECT data_type FROM information_schema.columns WHERE table_name = %s", (table,))
            assert {r[0] for r in cur.fetchall()} == {"text"}


def test_sqlite_windows_match_the_manifest(world: Path, manifest: dict) -> None:
    with sqlite3.connect(world / "sources" / "db" / "source.sqlite") as conn:
        cur = conn.cursor()
        for table in ("orders", "lineitem"):
            expected = [c["rows_delivered"] for c in manifest["tables"][f"db__{table}"]["days"].values()]
            assert _counts_per_day(cur, table, manifest["days"], "?") == expected


def test_api_requires_the_bearer_token(api_server: tuple[str, str]) -> None:
    url, token = api_server
    assert requests.get(f"{url}/v1/customers").status_code == 401
    assert requests.get(f"{url}/v1/customers", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert requests.get(f"{url}/v1/customers", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_api_pages_a_day_by_cursor(api_server: tuple[str, str], api_world: Path) -> None:
    from lakehouse.sources import load_manifest

    url, token = api_server
    manifest = load_manifest(api_world)
    for day, counts in manifest["tables"]["api__customers"]["days"].items():
        since, until = f"{day} 00:00:00", f"{date.fromisoformat(day) + timedelta(days=1)} 00:00:00"
        records, cursor, pages = [], None, 0
        while True:
            params = {"updated_since": since, "updated_until": until, "limit": 7, **({"cursor": cursor} if cursor else {})}
            body = requests.get(f"{url}/v1/customers", params=params, headers={"Authorization": f"Bearer {token}"}).json()
            records += body["data"]
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert len(records) == counts["rows_delivered"] and pages > 1
        assert all(since <= r["system_modstamp"] < until for r in records)
        assert {"c_custkey", "c_acctbal", "updated_at", "system_modstamp"} <= set(records[0])


@contextmanager
def _server(root: Path, **kwargs: object) -> Iterator[str]:
    server = make_api_server(root, port=0, token="t", **kwargs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/customers"
    finally:
        server.shutdown()
        server.server_close()


def test_api_rate_limit_answers_429_with_retry_after(api_world: Path) -> None:
    with _server(api_world, rate_limit_per_second=2, error_rate=0.0) as url:
        answers = [requests.get(url, headers={"Authorization": "Bearer t"}) for _ in range(5)]
    throttled = [a for a in answers if a.status_code == 429]
    assert answers[0].status_code == 200 and throttled
    assert all(int(a.headers["Retry-After"]) >= 1 for a in throttled)


def test_api_seeded_errors(api_world: Path) -> None:
    with _server(api_world, rate_limit_per_second=0, error_rate=1.0) as url:
        assert requests.get(url, headers={"Authorization": "Bearer t"}).status_code == 500
    statuses = []
    for _ in range(2):
        with _server(api_world, rate_limit_per_second=0, error_rate=0.3, seed=5) as url:
            statuses.append([requests.get(url, headers={"Authorization": "Bearer t"}).status_code for _ in range(30)])
    assert statuses[0] == statuses[1] and 500 in statuses[0] and 200 in statuses[0]


def test_upload_landing_to_s3(world: Path, moto_endpoint: str) -> None:
    kwargs = {"endpoint_url": moto_endpoint, "aws_access_key_id": "testing", "aws_secret_access_key": "testing",
              "region_name": "us-east-1"}
    s3, kms = boto3.client("s3", **kwargs), boto3.client("kms", **kwargs)
    s3.create_bucket(Bucket="lakehouse-landing")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    keys = upload_landing(world, s3, "lakehouse-landing", prefix="landing", kms_key_id=key_id)
    local = sorted(p.relative_to(world / "landing").as_posix() for p in (world / "landing").rglob("*") if p.is_file())
    assert keys == [f"landing/{k}" for k in local]
    listed = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket="lakehouse-landing") for o in page["Contents"]]
    assert sorted(listed) == sorted(keys)
    head = s3.head_object(Bucket="lakehouse-landing", Key=keys[0])
    assert head["ServerSideEncryption"] == "aws:kms" and key_id in head["SSEKMSKeyId"]
    body = s3.get_object(Bucket="lakehouse-landing", Key=keys[-1])["Body"].read()
    assert body == (world / "landing" / keys[-1].removeprefix("landing/")).read_bytes()


def test_stage_only_then_deliver_day_by_day(tmp_path: Path) -> None:
    manifest = simulate(tmp_path, sf=0.001, days=3, seed=11, stage_only=True, progress=False)
    assert not (tmp_path / "landing").exists() or not any((tmp_path / "landing").rglob("*.*"))
    late = manifest["late_files"][0]
    for day in manifest["days"]:
        landed = deliver(tmp_path, day)
        assert landed and all(p.is_file() for p in landed)
        rels = {p.relative_to(tmp_path / "landing").as_posix() for p in landed}
        assert (late["path"] in rels) == (day == late["arrival_day"])
        assert any(f"ingestion_date={day}" in r for r in rels)


def test_bronze_api_client_reads_a_day_through_429s_and_500s(api_world: Path) -> None:
    from glue_scripts.common.api_client import ApiClient
    from lakehouse.sources import load_manifest

    day, counts = next(iter(load_manifest(api_world)["tables"]["api__customers"]["days"].items()))
    with _server(api_world, rate_limit_per_second=20, error_rate=0.1, seed=1) as url:
        client = ApiClient(url.removesuffix("/v1/customers"), "t", max_attempts=10, backoff=0.01, backoff_max=0.05)
        window = {"updated_since": f"{day} 00:00:00", "updated_until": f"{date.fromisoformat(day) + timedelta(days=1)} 00:00:00"}
        pages = list(client.pages("/v1/customers", window, 50))
    records = [r for _, page in pages for r in page]
    assert len(records) == counts["rows_delivered"] and len(pages) > 5
    assert all(isinstance(r["c_acctbal"], str) or r["c_acctbal"] is None for r in records)

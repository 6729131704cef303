"""Publishing to Snowflake (fakesnow) round-trips every type gold uses and is idempotent."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from lakehouse.resources import FakesnowResource


def _resource(tmp_path: Path) -> FakesnowResource:
    return FakesnowResource(account="fakesnow", user="u", password="p", database="LAKEHOUSE", schema="GOLD",
                            db_path=str(tmp_path / "snowflake"))


MART = pa.table({
    "order_date": pa.array([dt.date(1995, 3, 1), dt.date(1995, 3, 2)], pa.date32()),
    "n_name": ["FRANCE", 'O"HARA, select'],
    "net_revenue": pa.array([Decimal("1234.5600"), Decimal("0.0100")], pa.decimal128(38, 4)),
    "orders": pa.array([3, 0], pa.int64()),
    "bot_share": [0.25, 0.0],
    "first_seen": pa.array([dt.datetime(2024, 1, 1, 3, 4, 5, 123456), None], pa.timestamp("us")),
    "top_parts": pa.array([[5, 7], []], pa.list_(pa.int64())),
    "order": ["reserved word", "as column"],
})


def test_publish_round_trips_types_and_identifiers(tmp_path: Path) -> None:
    snowflake = _resource(tmp_path)
    assert snowflake.publish("daily_revenue", MART, "daily_revenue") == 2
    with snowflake.get_connection() as conn:
        rows = conn.cursor().execute('SELECT * FROM "DAILY_REVENUE" ORDER BY "ORDER_DATE"').fetchall()
    assert rows[0][0] == dt.date(1995, 3, 1)
    assert rows[1][1] == 'O"HARA, select'
    assert rows[0][2] == Decimal("1234.5600")
    assert rows[0][3] == 3 and rows[0][4] == 0.25
    assert rows[0][5] == dt.datetime(2024, 1, 1, 3, 4, 5, 123456)
    assert rows[1][5] is None
    assert rows[0][7] == "reserved word"
    assert snowflake.totals("daily_revenue", {"net_revenue": 4, "orders": 0}) == {"rows": 2, "net_revenue": Decimal("1234.57"), "orders": 3}


def test_republish_replaces_instead_of_doubling(tmp_path: Path) -> None:
    snowflake = _resource(tmp_path)
    snowflake.publish("daily_revenue", MART, "daily_revenue")
    snowflake.publish("daily_revenue", MART, "daily_revenue")
    assert snowflake.totals("daily_revenue", {"orders": 0})["rows"] == 2


def test_empty_mart_publishes_an_empty_table(tmp_path: Path) -> None:
    snowflake = _resource(tmp_path)
    snowflake.publish("daily_revenue", MART, "daily_revenue")
    assert snowflake.publish("daily_revenue", MART.slice(0, 0), "daily_revenue") == 0

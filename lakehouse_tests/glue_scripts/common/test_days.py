"""A Glue run over a range of ingestion dates applies its days one after another, each as a one-day run."""

import pytest

from glue_scripts.common.days import ingestion_days, over_days


def test_one_day_without_an_end() -> None:
    assert ingestion_days({"ingestion_date": "2024-01-31"}) == ["2024-01-31"]


def test_range_is_inclusive_and_crosses_months() -> None:
    assert ingestion_days({"ingestion_date": "2024-01-30", "ingestion_date_end": "2024-02-01"}) == [
        "2024-01-30", "2024-01-31", "2024-02-01"]


@pytest.mark.parametrize("args, message", [
    ({"ingestion_date": "2024-01-03", "ingestion_date_end": "2024-01-01"}, "before"),
    ({"ingestion_date_end": "2024-01-01"}, "--ingestion_date"),
    ({"ingestion_date": "2024-13-01"}, "month"),
])
def test_bad_ranges_are_refused(args: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ingestion_days(args)


def test_one_day_is_a_range_of_one() -> None:
    assert over_days({"ingestion_date": "2024-01-01", "table": "t"}, lambda a: {"seen": dict(a)}) == {
        "2024-01-01": {"seen": {"ingestion_date": "2024-01-01", "table": "t"}}}


def test_range_runs_each_day_in_order_with_one_day_arguments() -> None:
    seen: list[dict[str, str]] = []
    result = over_days({"ingestion_date": "2024-01-01", "ingestion_date_end": "2024-01-03", "table": "t"},
                       lambda a: seen.append(dict(a)) or {"rows": len(seen)})
    assert seen == [{"ingestion_date": d, "table": "t"} for d in ("2024-01-01", "2024-01-02", "2024-01-03")]
    assert result == {"2024-01-01": {"rows": 1}, "2024-01-02": {"rows": 2}, "2024-01-03": {"rows": 3}}

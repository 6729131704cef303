"""Bronze declarations every bronze job shares: the watermark window of a partition and the record hash's markers.

The bronze jobs parse, stamp and write rows in Python on every profile (glue_scripts/common/bronze_arrow.py), so
nothing here needs an engine."""

from __future__ import annotations

from datetime import date, timedelta

NULL_MARKER = "\\N"
SEPARATOR = "|"


def window(ingestion_date: str) -> tuple[str, str]:
    """The watermark window of a partition: ('D 00:00:00', 'D+1 00:00:00'), start inclusive."""
    day = date.fromisoformat(ingestion_date)
    return f"{day} 00:00:00", f"{day + timedelta(days=1)} 00:00:00"

"""writer: sidecar files swap in with their partition; a removed partition stays removed, even after recover;
streamed batches land whole or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from glue_scripts.common import writer

PARTITION = "ingestion_date=2024-01-01"


def test_sidecar_lands_with_its_partition_only_on_commit(tmp_path: Path) -> None:
    table = tmp_path / "t"
    write = writer.begin(str(table), PARTITION)
    writer.write_sidecar(write, "_signature.json", b'{"signature": "x"}')
    assert not (table / PARTITION).exists()
    writer.commit(write)
    assert (table / PARTITION / "_signature.json").read_bytes() == b'{"signature": "x"}'
    with pytest.raises(ValueError, match="start with '_'"):
        writer.write_sidecar(writer.begin(str(table), PARTITION), "signature.json", b"")


def test_removed_partition_is_gone_and_recover_does_not_bring_it_back(tmp_path: Path) -> None:
    table = tmp_path / "t"
    for day in ("2024-01-01", "2024-01-02"):
        writer.write_arrow(pa.table({"x": [1]}), str(table), f"ingestion_date={day}")
    writer.remove(str(table), PARTITION)
    writer.remove(str(table), "ingestion_date=2024-01-09")
    assert sorted(p.name for p in table.glob("ingestion_date=*")) == ["ingestion_date=2024-01-02"]
    # a crash after the rename and before the delete leaves the removed partition in the trash
    writer.write_arrow(pa.table({"x": [1]}), str(table), PARTITION)
    interrupted = table / writer.TRASH / f"{writer.REMOVED}{PARTITION}-0123abcd"
    (table / PARTITION).rename(interrupted)
    writer.recover(str(table))
    assert not (table / PARTITION).exists() and not interrupted.exists()
    assert (table / "ingestion_date=2024-01-02" / "part-00000.parquet").exists()


def test_streamed_batches_land_as_one_file_and_a_failing_stream_changes_nothing(tmp_path: Path) -> None:
    table = tmp_path / "t"
    schema = pa.schema([("x", pa.int64())])
    writer.write_batches(schema, (pa.record_batch([pa.array([i, i + 1])], schema=schema) for i in (0, 2, 4)),
                         str(table), PARTITION)
    [file] = (table / PARTITION).iterdir()
    assert pq.ParquetFile(file).num_row_groups == 3 and pq.read_table(file).column("x").to_pylist() == [0, 1, 2, 3, 4, 5]

    def failing() -> Iterator[pa.RecordBatch]:
        yield pa.record_batch([pa.array([9])], schema=schema)
        raise ConnectionError("source went away mid-stream")

    with pytest.raises(ConnectionError):
        writer.write_batches(schema, failing(), str(table), PARTITION)
    assert pq.read_table(table / PARTITION).column("x").to_pylist() == [0, 1, 2, 3, 4, 5]
    assert not any((table / writer.STAGING).iterdir())

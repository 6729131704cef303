"""Landing-zone files for one ingestion partition: list them, vet them in the driver, quarantine bad ones."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import zlib
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.fs as pafs

from glue_scripts.common.fs import filesystem_for, join

CHUNK = 1 << 20


@dataclass(frozen=True)
class LandingFile:
    """One delivered file: its URI as given to Spark and its path inside its pyarrow filesystem."""

    uri: str
    fs_path: str

    @property
    def name(self) -> str:
        """The file's base name."""
        return self.fs_path.rsplit("/", 1)[-1]


def list_files(folder: str, suffixes: tuple[str, ...] = ()) -> list[LandingFile]:
    """Data files directly under `folder` (hidden and `_` files skipped), sorted; none if it is missing."""
    fs, root = filesystem_for(folder)
    infos = fs.get_file_info(pafs.FileSelector(root, allow_not_found=True))
    files = [
        LandingFile(join(folder, i.base_name), i.path)
        for i in infos
        if i.is_file and not i.base_name.startswith((".", "_")) and (not suffixes or i.base_name.endswith(suffixes))
    ]
    return sorted(files, key=lambda f: f.uri)


def check_file(file: LandingFile, gzipped: bool = False) -> str | None:
    """Read the whole file once; return why it is unreadable (bad gzip, invalid UTF-8), else None."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    try:
        with _open(file) as raw:
            stream = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw
            while chunk := stream.read(CHUNK):
                decoder.decode(chunk)
                offset += len(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        return f"invalid UTF-8 at byte {offset + exc.start}: {exc.reason}"
    except (zlib.error, EOFError, gzip.BadGzipFile) as exc:
        return f"unreadable gzip: {exc}"
    except OSError as exc:
        return f"unreadable file: {exc}"
    return None


def _open(file: LandingFile) -> io.BufferedReader:
    """The file's bytes exactly as stored (no transparent decompression), as a buffered reader."""
    fs, _ = filesystem_for(file.uri)
    return io.BufferedReader(_RawStream(fs.open_input_stream(file.fs_path, compression=None)), CHUNK)


def read_header(file: LandingFile) -> list[str]:
    """The column names in a CSV file's header row (RFC 4180 quoting); empty for an empty file."""
    with _open(file) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        return next(csv.reader(text), [])


class _RawStream(io.RawIOBase):
    """Adapt a pyarrow input stream to io.RawIOBase so the text layer can read one line."""

    def __init__(self, stream: pa.NativeFile) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._stream.close()
        super().close()


def quarantine_file(file: LandingFile, reason: str, quarantine_root: str, table: str, partition: str, run_id: str) -> str:
    """Copy an unreadable file to `<quarantine>/_files/<table>/<partition>/` with a JSON reason beside it."""
    folder = join(quarantine_root, "_files", table, partition)
    target_fs, target = filesystem_for(folder)
    target_fs.create_dir(target, recursive=True)
    source_fs, _ = filesystem_for(file.uri)
    with source_fs.open_input_stream(file.fs_path, compression=None) as src, target_fs.open_output_stream(
        f"{target}/{file.name}", compression=None
    ) as dst:
        while chunk := src.read(CHUNK):
            dst.write(chunk)
    record = {"path": file.uri, "reason": reason, "run_id": run_id}
    with target_fs.open_output_stream(f"{target}/{file.name}.reason.json", compression=None) as dst:
        dst.write(json.dumps(record).encode("utf-8"))
    return join(folder, file.name)


def vet_files(
    files: list[LandingFile], gzipped: bool, quarantine_root: str, table: str, partition: str, run_id: str
) -> tuple[list[LandingFile], list[dict[str, str]]]:
    """Split files into readable ones and quarantined ones ({path, reason}), quarantining the latter."""
    good: list[LandingFile] = []
    bad: list[dict[str, str]] = []
    for file in files:
        reason = check_file(file, gzipped)
        if reason is None:
            good.append(file)
        else:
            quarantine_file(file, reason, quarantine_root, table, partition, run_id)
            bad.append({"path": file.uri, "reason": reason})
    return good, bad

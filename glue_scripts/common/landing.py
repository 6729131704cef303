"""Landing-zone files for one ingestion partition: list them literally, open them safely, quarantine bad ones.

A file name is data: files are opened by their exact path through the filesystem API, never handed to an
engine as a pattern or URI. Inside the partition folder only regular files are read; a symbolic link or any
other special entry is refused (never followed) and recorded in quarantine; names a reader does not take
(`_`/`.` prefixes, other suffixes, sub-folders) are reported, not silently skipped.
"""

from __future__ import annotations

import io
import json
import os
import stat
from dataclasses import dataclass, field
from typing import BinaryIO

import pyarrow as pa
import pyarrow.fs as pafs

from glue_scripts.common import writer
from glue_scripts.common.fs import filesystem_for, join

CHUNK = 1 << 20


@dataclass(frozen=True)
class LandingFile:
    """One delivered file: its URI (the `_source_ref` of its rows) and its path inside its pyarrow filesystem."""

    uri: str
    fs_path: str

    @property
    def name(self) -> str:
        """The file's base name."""
        return self.fs_path.rsplit("/", 1)[-1]


@dataclass
class Listing:
    """One partition folder: files to read, entries refused ({path, reason}), names not taken ({path, reason})."""

    files: list[LandingFile] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)


def _kind(fs: pafs.FileSystem, info: pafs.FileInfo) -> str:
    """'file', 'dir', 'symlink' or 'special' for one listed entry, without following links."""
    if isinstance(fs, pafs.LocalFileSystem):
        if os.path.islink(info.path):
            return "symlink"
        mode = os.lstat(info.path).st_mode
        return "file" if stat.S_ISREG(mode) else "dir" if stat.S_ISDIR(mode) else "special"
    return {pafs.FileType.File: "file", pafs.FileType.Directory: "dir"}.get(info.type, "special")


def list_files(folder: str, suffixes: tuple[str, ...]) -> Listing:
    """Regular files directly under `folder` ending with one of `suffixes`, sorted; the rest refused or skipped."""
    fs, root = filesystem_for(folder)
    listing = Listing()
    for info in sorted(fs.get_file_info(pafs.FileSelector(root, allow_not_found=True)), key=lambda i: i.base_name):
        uri, kind = join(folder, info.base_name), _kind(fs, info)
        if kind == "symlink":
            listing.refused.append({"path": uri, "reason": "symbolic link: refused, never followed"})
        elif kind == "special":
            listing.refused.append({"path": uri, "reason": "not a regular file: refused"})
        elif kind == "dir":
            listing.skipped.append({"path": uri, "reason": "sub-folder: only files directly in the partition are read"})
        elif info.base_name.startswith((".", "_")):
            listing.skipped.append({"path": uri, "reason": "hidden name ('.' or '_' prefix): not read"})
        elif not info.base_name.endswith(suffixes):
            listing.skipped.append({"path": uri, "reason": f"suffix not one of {', '.join(suffixes)}: not read"})
        else:
            listing.files.append(LandingFile(uri, info.path))
    return listing


def open_file(file: LandingFile) -> BinaryIO:
    """The file's bytes exactly as stored (no transparent decompression); a local path swapped for a link fails."""
    fs, _ = filesystem_for(file.uri)
    if isinstance(fs, pafs.LocalFileSystem):
        return open(file.fs_path, "rb", buffering=CHUNK, opener=lambda p, f: os.open(p, f | os.O_NOFOLLOW))
    return io.BufferedReader(_RawStream(fs.open_input_stream(file.fs_path, compression=None)), CHUNK)


class _RawStream(io.RawIOBase):
    """Adapt a pyarrow input stream to io.RawIOBase so buffered and gzip readers can read lines."""

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


class Quarantine:
    """The partition's `quarantine/_files/<table>/<partition>/` folder, staged and swapped in whole by `commit`
    (removed when this run quarantined nothing, so a fixed delivery leaves no stale entries).

    A refused entry gets only its `<name>.reason.json` (its content is never read); an unreadable file is copied
    beside its reason; rejected records of a kept file are listed in `<name>.records.json` (line, bytes, reason).
    """

    def __init__(self, quarantine_root: str, table: str, partition: str, run_id: str) -> None:
        self.table_path, self.partition = join(quarantine_root, "_files", table), partition
        self.write = writer.begin(self.table_path, partition)
        self.fs, self.root = filesystem_for(self.write.staging_path)
        self.run_id = run_id
        self.used = False

    def _out(self, name: str) -> pa.NativeFile:
        if not self.used:
            self.fs.create_dir(self.root, recursive=True)
            self.used = True
        return self.fs.open_output_stream(f"{self.root}/{name}", compression=None)

    def _json(self, name: str, record: dict[str, object]) -> None:
        with self._out(name) as out:
            out.write(json.dumps({**record, "run_id": self.run_id}).encode("utf-8"))

    def refuse(self, entry: dict[str, str]) -> None:
        """Record a refused entry's reason without touching what it points to."""
        self._json(entry["path"].rsplit("/", 1)[-1] + ".reason.json", entry)

    def reject_file(self, file: LandingFile, reason: str) -> None:
        """Copy an unusable file and its reason."""
        with open_file(file) as src, self._out(file.name) as dst:
            while chunk := src.read(CHUNK):
                dst.write(chunk)
        self._json(f"{file.name}.reason.json", {"path": file.uri, "reason": reason})

    def reject_records(self, file: LandingFile, records: list[dict[str, int | str]]) -> None:
        """List the records of a kept file that were not ingested."""
        self._json(f"{file.name}.records.json", {"path": file.uri, "records": records})

    def commit(self) -> None:
        """Swap the staged folder in for the partition's previous quarantine; with nothing staged, drop the old one."""
        if self.used:
            writer.commit(self.write)
        else:
            writer.remove(self.table_path, self.partition)

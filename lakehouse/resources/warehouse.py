"""The warehouse: where each layer lives (a local folder or an S3 bucket) and how to list and read it."""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
import pyarrow.fs as pafs

from glue_scripts.common.fs import filesystem_for, join


@dataclass(frozen=True)
class FileEntry:
    """One file in a layer: its URI, size in bytes and modification time (epoch seconds)."""

    uri: str
    size: int
    mtime: float


class Warehouse(dg.ConfigurableResource):
    """Layer locations: local folders under the root, or s3:// buckets (SSE-KMS with the given key)."""

    landing: str
    bronze: str
    silver: str
    gold: str
    quarantine: str
    kms_key_id: str = ""

    def uri(self, layer: str, *parts: str) -> str:
        """URI of a layer or of a path inside it."""
        return join(getattr(self, layer), *parts) if parts else getattr(self, layer)

    def list_dirs(self, layer: str, prefix: str) -> list[str]:
        """Names of the folders directly under a layer prefix (one shallow listing), sorted."""
        fs, path = filesystem_for(self.uri(layer, prefix))
        infos = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True, recursive=False))
        return sorted(i.base_name for i in infos if i.type == pafs.FileType.Directory)

    def list_files(self, layer: str, prefix: str = "") -> list[FileEntry]:
        """Every file under a layer prefix, sorted by URI; an absent prefix lists nothing."""
        base = self.uri(layer, prefix) if prefix else self.uri(layer)
        fs, path = filesystem_for(base)
        infos = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True, recursive=True))
        scheme = "s3://" if base.startswith("s3://") else ""
        return sorted(
            (
                FileEntry(scheme + i.path, i.size or 0, i.mtime.timestamp() if i.mtime else 0.0)
                for i in infos
                if i.is_file
            ),
            key=lambda e: e.uri,
        )

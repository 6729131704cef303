"""Filesystems for warehouse paths: the local folder, or S3 honouring AWS_ENDPOINT_URL (pyarrow ignores it)."""

from __future__ import annotations

import os

import pyarrow.fs as pafs


def filesystem_for(path: str) -> tuple[pafs.FileSystem, str]:
    """Return the pyarrow filesystem that holds `path` and the path inside it."""
    if path.startswith("s3://"):
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        options: dict[str, object] = {"region": os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))}
        if endpoint:
            scheme, _, host = endpoint.partition("://")
            options.update(endpoint_override=host, scheme=scheme)
        return pafs.S3FileSystem(**options), path.removeprefix("s3://")
    return pafs.LocalFileSystem(), os.path.abspath(path)


def join(base: str, *parts: str) -> str:
    """Join path parts with '/', for local paths and s3:// URIs alike."""
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts)])

"""Dagster definitions of the lakehouse, one sub-package per layer."""

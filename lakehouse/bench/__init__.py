"""`lakehouse bench`: per-stage cost of the pipeline on the local profile, against a DuckDB SQL floor and an I/O floor."""

from lakehouse.bench.run import BenchError, run_bench, write_report

__all__ = ["BenchError", "run_bench", "write_report"]

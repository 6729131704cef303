"""The lakehouse: its Dagster code location, the `lakehouse` command and the simulated sources."""

from lakehouse.terminal import quiet_warnings

quiet_warnings()

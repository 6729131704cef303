"""Snowflake: every gold mart published as its own table, reconciled with the gold Parquet."""

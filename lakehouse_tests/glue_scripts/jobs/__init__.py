"""Tests for the Glue jobs under glue_scripts/jobs."""

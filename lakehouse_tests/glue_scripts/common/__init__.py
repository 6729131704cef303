"""Tests for glue_scripts."""

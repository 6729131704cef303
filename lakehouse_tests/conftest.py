"""Shared pytest configuration: fixtures live in lakehouse_tests/fixtures and are registered here."""

pytest_plugins = [
    "lakehouse_tests.fixtures.servers",
    "lakehouse_tests.fixtures.spark",
    "lakehouse_tests.fixtures.worlds",
]

"""End-to-end tests of the Dagster UI in a headless browser."""

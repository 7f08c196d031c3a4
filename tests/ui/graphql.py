"""The GraphQL queries the UI test makes against the running webserver before it opens a browser."""

from __future__ import annotations

from typing import Any

import requests

from tests.ui.server import wait_until

IN_PROGRESS = ["QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING"]

LOCATIONS = """
query { workspaceOrError { __typename ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""

RUNS = """
query Runs($statuses: [RunStatus!]) { runsOrError(filter: {statuses: $statuses}) {
  __typename ... on Runs { results { runId status jobName } } } }
"""


class GraphQL:
    def __init__(self, url: str) -> None:
        self.endpoint = f"{url}/graphql"

    def query(self, document: str, **variables: Any) -> dict[str, Any]:
        response = requests.post(self.endpoint, json={"query": document, "variables": variables}, timeout=30)
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def location_entries(self) -> list[dict[str, Any]]:
        return list(self.query(LOCATIONS)["workspaceOrError"].get("locationEntries") or [])

    def wait_for_location(self, timeout: float) -> str:
        """Name of the code location once it has loaded; raises if it loaded with an error."""

        def loaded() -> bool:
            entries = self.location_entries()
            return bool(entries) and all(e["loadStatus"] == "LOADED" for e in entries)

        if not wait_until(loaded, timeout, 1):
            raise TimeoutError(f"the code location did not load within {timeout:.0f}s")
        (entry,) = self.location_entries()
        outcome = entry["locationOrLoadError"]
        if outcome["__typename"] != "RepositoryLocation":
            raise RuntimeError(f"code location {entry['name']} failed to load: {outcome}")
        return str(entry["name"])

    def runs_in_progress(self) -> list[dict[str, str]]:
        return list(self.query(RUNS, statuses=IN_PROGRESS)["runsOrError"]["results"])

    def wait_for_idle(self, timeout: float) -> None:
        """Wait until no run is queued or running (a sensor may have requested one)."""
        if not wait_until(lambda: not self.runs_in_progress(), timeout, 1):
            raise TimeoutError(f"runs still in progress after {timeout:.0f}s: {self.runs_in_progress()}")

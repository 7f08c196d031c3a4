"""The few GraphQL calls the UI test makes against the running webserver."""

from __future__ import annotations

import time
from typing import Any

import requests

ASSET_JOB = "__ASSET_JOB"
REPOSITORY = "__repository__"
IN_PROGRESS = ["QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING"]

LOCATIONS = """
query { workspaceOrError { __typename ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""

LAUNCH = """
mutation Launch($params: ExecutionParams!) { launchPipelineExecution(executionParams: $params) {
  __typename
  ... on LaunchRunSuccess { run { runId } }
  ... on RunConfigValidationInvalid { errors { message } }
  ... on PythonError { message }
  ... on Error { message }
} }
"""

RUN_STATUS = """
query Status($runId: ID!) { runOrError(runId: $runId) { __typename ... on Run { status } } }
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

    def wait_for_location(self, timeout: float) -> str:
        """Name of the one code location, once it has loaded without error."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            entries = self.query(LOCATIONS)["workspaceOrError"].get("locationEntries") or []
            loaded = [e for e in entries if e["loadStatus"] == "LOADED"]
            if entries and len(loaded) == len(entries):
                errors = [e for e in loaded if e["locationOrLoadError"]["__typename"] != "RepositoryLocation"]
                if errors:
                    raise RuntimeError(f"code location failed to load: {errors}")
                return str(loaded[0]["name"])
            time.sleep(1)
        raise TimeoutError(f"code location did not load within {timeout:.0f}s")

    def launch_asset_job(self, location: str, run_config: dict[str, Any]) -> str:
        params = {
            "selector": {"repositoryLocationName": location, "repositoryName": REPOSITORY, "jobName": ASSET_JOB},
            "runConfigData": run_config,
            "mode": "default",
        }
        result = self.query(LAUNCH, params=params)["launchPipelineExecution"]
        if result["__typename"] != "LaunchRunSuccess":
            raise RuntimeError(f"launch failed: {result}")
        return str(result["run"]["runId"])

    def run_status(self, run_id: str) -> str:
        return str(self.query(RUN_STATUS, runId=run_id)["runOrError"]["status"])

    def wait_for_run(self, run_id: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.run_status(run_id)
            if status not in IN_PROGRESS:
                return status
            time.sleep(1)
        raise TimeoutError(f"run {run_id} still {status} after {timeout:.0f}s")

    def runs_in_progress(self) -> list[dict[str, str]]:
        return list(self.query(RUNS, statuses=IN_PROGRESS)["runsOrError"]["results"])

"""The prune job: what the Launchpad and the weekly schedule run, on a real instance."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from ft_assets.definitions import PRUNE_JOB, SCHEDULES
from ft_resources.artifact_store import ArtifactStore
from tests.retention.test_plan import model


def run(instance: dg.DagsterInstance, store: ArtifactStore, **config: object) -> dg.ExecuteInProcessResult:
    return PRUNE_JOB.execute_in_process(
        instance=instance,
        resources={"artifact_store": store},
        run_config={"ops": {"prune_artifacts": {"config": {"min_age_hours": 0, "keep": 1, **config}}}},
    )


def metadata(result: dg.ExecuteInProcessResult) -> dict:
    [event] = [e for e in result.all_node_events if e.event_type_value == "STEP_OUTPUT"]
    return {k: v.value for k, v in event.step_output_data.metadata.items()}


def test_the_job_lists_by_default_and_deletes_when_told(tmp_path: Path) -> None:
    store = ArtifactStore(root=str(tmp_path / "artifacts"))
    with dg.instance_for_test() as instance:
        model(store, instance, "v1")
        model(store, instance, "v2")
        listed = run(instance, store)
        assert listed.success  # its own run, in progress while it plans, does not stop it
        assert metadata(listed)["entries_to_delete"] == 2
        assert store.exists("fine_tuned_model/v1")
        applied = run(instance, store, apply=True)
        assert metadata(applied)["entries_deleted"] == 2
        assert not store.exists("fine_tuned_model/v1") and store.exists("fine_tuned_model/v2")


def test_a_refusal_fails_the_run_and_names_why(tmp_path: Path) -> None:
    store = ArtifactStore(root=str(tmp_path / "artifacts"))
    with dg.instance_for_test() as writer, dg.instance_for_test() as other:
        model(store, writer, "v1")
        result = PRUNE_JOB.execute_in_process(
            instance=other,
            resources={"artifact_store": store},
            run_config={"ops": {"prune_artifacts": {"config": {"apply": True, "min_age_hours": 0}}}},
            raise_on_error=False,
        )
        assert not result.success
        assert "DAGSTER_HOME" in str(result.failure_data_for_node("prune_artifacts").error)
        assert store.exists("fine_tuned_model/v1")


def test_the_weekly_schedule_deletes() -> None:
    [schedule] = [s for s in SCHEDULES if s.name == "prune_schedule"]
    assert schedule.job_name == PRUNE_JOB.name
    [request] = schedule.evaluate_tick(dg.build_schedule_context()).run_requests
    assert request.run_config["ops"]["prune_artifacts"]["config"]["apply"] is True

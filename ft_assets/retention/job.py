"""Retention as a Dagster job (Launchpad or schedule), for deployments without a shell on the instance."""
# No `from __future__ import annotations`: Dagster reads the nested op's config annotation as a type.

from collections.abc import Sequence

import dagster as dg
from pydantic import Field

from ft_assets.assets.metadata import md_table
from ft_assets.retention.plan import RetentionError, apply_plan, megabytes, plan_retention
from ft_resources.artifact_store import ArtifactStore

PRUNE_CRON = "0 5 * * 0"  # Sundays 05:00 UTC, away from the Monday retrain


class RetentionConfig(dg.Config):
    keep: int = Field(
        default=3, ge=1, description="Materializations kept per asset (at least 1: the latest is read again)."
    )
    min_age_hours: float = Field(
        default=24.0, ge=0.0, description="Never delete anything written more recently than this."
    )
    include_unknown: bool = Field(
        default=False,
        description="Also delete entries no materialization of this instance names (failed runs' leftovers).",
    )
    apply: bool = Field(default=False, description="Delete; false only lists what would be deleted.")


DEFAULTS = RetentionConfig()


def build_prune_job(asset_keys: Sequence[dg.AssetKey]) -> dg.JobDefinition:
    keys = list(asset_keys)

    @dg.op(
        description=(
            "Deletes the stored artifacts that only materializations older than each asset's latest `keep` "
            "name, once `min_age_hours` old (ft_assets.retention.plan); entries no materialization of this "
            "instance names only with `include_unknown`; registry bundles of versions older than "
            "production's latest `keep` (ft_assets.retention.bundles). The registry's pointer and log, "
            "production and checkpoints/ are never touched."
        )
    )
    def prune_artifacts(
        context: dg.OpExecutionContext, config: RetentionConfig, artifact_store: ArtifactStore
    ) -> dg.Output[None]:
        try:
            plan = plan_retention(
                artifact_store,
                context.instance,
                keys,
                keep=config.keep,
                min_age_seconds=config.min_age_hours * 3600,
                include_unknown=config.include_unknown,
                own_run_id=context.run_id,
            )
            if config.apply:
                apply_plan(artifact_store, plan, context.instance, own_run_id=context.run_id)
        except RetentionError as exc:
            raise dg.Failure(str(exc)) from exc
        rows = [
            {
                "entry": artifact_store.display(c.entry.rel),
                "MB": megabytes(c.entry.size),
                "why": c.reason,
            }
            for c in plan.delete
        ]
        context.log.info(
            f"{'deleted' if config.apply else 'would delete'} {len(plan.delete)} entries "
            f"({megabytes(plan.bytes_freed):,.1f} MB); kept {len(plan.kept)}, "
            f"{len(plan.too_recent)} too recent, {len(plan.unknown)} named by no materialization of this "
            "instance"
        )
        return dg.Output(
            None,
            metadata={
                "applied": config.apply,
                "entries_deleted" if config.apply else "entries_to_delete": len(plan.delete),
                "mb_freed" if config.apply else "mb_to_free": megabytes(plan.bytes_freed),
                "entries_kept": len(plan.kept),
                "entries_too_recent": len(plan.too_recent),
                "entries_unknown": len(plan.unknown),
                "entries": md_table(rows, ["entry", "MB", "why"]),
            },
        )

    @dg.job(description="Delete stored artifacts only superseded materializations name; lists unless apply.")
    def prune_job() -> None:
        prune_artifacts()

    return prune_job


def build_prune_schedule(job: dg.JobDefinition) -> dg.ScheduleDefinition:
    """Weekly, deleting (apply), off until an operator turns it on in the UI."""
    return dg.ScheduleDefinition(
        name="prune_schedule",
        cron_schedule=PRUNE_CRON,
        execution_timezone="UTC",
        job=job,
        run_config={"ops": {"prune_artifacts": {"config": {"apply": True}}}},
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=(
            f"Weekly retention: deletes what only materializations older than each asset's latest "
            f"{DEFAULTS.keep} name, and registry bundles older than production's latest {DEFAULTS.keep} "
            f"versions, once {DEFAULTS.min_age_hours:g} hours old. Off by default; production's bundle, "
            "the registry's pointer and log, and checkpoints/ are never touched."
        ),
    )

"""`python -m ft_assets.retention [--keep N] [--min-age-hours H] [--include-unknown] [--apply]`: list, then
delete, the stored artifacts that only materializations older than each asset's latest N name, and the
registry bundles of versions older than production's latest N (ft_assets.retention.plan)."""

from __future__ import annotations

import argparse
import sys

import dagster as dg

from ft_assets.definitions import ALL_ASSETS
from ft_assets.retention.job import DEFAULTS
from ft_assets.retention.plan import (
    Candidate,
    RetentionError,
    RetentionPlan,
    apply_plan,
    megabytes,
    plan_retention,
)
from ft_resources.artifact_store import ArtifactStore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--keep", type=int, default=DEFAULTS.keep, help="materializations kept per asset (at least 1)"
    )
    parser.add_argument(
        "--min-age-hours",
        type=float,
        default=DEFAULTS.min_age_hours,
        help="never delete anything written more recently than this",
    )
    parser.add_argument(
        "--include-unknown",
        action="store_true",
        help="also delete entries no materialization of this instance names (failed runs' leftovers)",
    )
    parser.add_argument("--apply", action="store_true", help="delete; without it, only list")
    args = parser.parse_args(argv)
    if args.min_age_hours < 0:
        parser.error("--min-age-hours must be 0 or more")
    store = ArtifactStore()
    keys = [key for asset in ALL_ASSETS for key in asset.keys]
    with dg.DagsterInstance.get() as instance:
        try:
            plan = plan_retention(
                store,
                instance,
                keys,
                keep=args.keep,
                min_age_seconds=args.min_age_hours * 3600,
                include_unknown=args.include_unknown,
            )
            if not args.apply:
                for candidate in plan.delete:
                    print(_line("would delete", store, candidate))
            _summary(store, plan)
            if args.apply:
                apply_plan(store, plan, instance, on_deleted=lambda c: print(_line("deleted", store, c)))
                print(f"deleted {len(plan.delete)} entries, {_megabytes(plan.bytes_freed)} freed")
            elif plan.delete:
                print("nothing deleted: run again with --apply (make prune APPLY=1) to delete")
        except RetentionError as exc:
            print(f"retention: {exc}", file=sys.stderr)
            return 2
    return 0


def _line(verb: str, store: ArtifactStore, candidate: Candidate) -> str:
    entry = candidate.entry
    return f"{verb}  {_megabytes(entry.size):>10}  {store.display(entry.rel)}  ({candidate.reason})"


def _summary(store: ArtifactStore, plan: RetentionPlan) -> None:
    for entry in plan.unknown:
        print(f"unknown, kept  {_megabytes(entry.size):>10}  {store.display(entry.rel)}")
    print(
        f"kept: {len(plan.kept)} entries named by a recent materialization (or production's weights), "
        f"{len(plan.too_recent)} too recent, {len(plan.unknown)} named by no materialization of this "
        f"instance (--include-unknown deletes them); {len(plan.delete)} to delete "
        f"({_megabytes(plan.bytes_freed)}). Registry bundles of production and of the latest --keep "
        "production versions are kept; the registry's pointer and log, production and checkpoints/ are "
        "never touched"
    )


def _megabytes(size: int) -> str:
    return f"{megabytes(size):,.1f} MB"


if __name__ == "__main__":
    sys.exit(main())

"""Which stored artifacts a retention run may delete: a mark-and-sweep over the artifact root.

Kept (marked): the files of each asset's latest ``keep`` materializations in the Dagster instance, and
everything their stored manifests name, transitively (a model folder, the tokenized dataset it was
trained on, ...), and the production model's own fine-tuned weights (the entry named by its version),
which the registry's ONNX bundle does not hold. Only the latest materialization is ever read again by
the pipeline (the IO manager loads exactly that one); the others are kept so the UI's recent history
still opens. Never swept:
``registry/`` (every promoted bundle, what rollback restores), ``production``, ``checkpoints/`` and
anything outside the assets' own folders. Swept: entries of an asset's folder that nothing marks and
that are older than ``min_age``, so a write of a run this instance does not know about is left alone.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterable, Iterator
from typing import Any

import dagster as dg

from ft_assets.promotion.registry import Registry
from ft_resources.artifact_store import ArtifactStore, StoredEntry
from ft_resources.io_manager import PATH_KEY

# Dagster's own "in progress" statuses: a run in any of them may be writing or about to read.
RUNNING = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


class RetentionError(RuntimeError):
    """A retention run that would be unsafe: nothing is deleted."""


@dataclasses.dataclass(frozen=True)
class Candidate:
    entry: StoredEntry
    reason: str


@dataclasses.dataclass
class RetentionPlan:
    kept: list[StoredEntry]
    delete: list[Candidate]
    too_recent: list[StoredEntry]

    @property
    def bytes_freed(self) -> int:
        return sum(candidate.entry.size for candidate in self.delete)


def plan_retention(
    store: ArtifactStore,
    instance: dg.DagsterInstance,
    asset_keys: Iterable[dg.AssetKey],
    *,
    keep: int,
    min_age_seconds: float,
    own_run_id: str | None = None,
    now: float | None = None,
) -> RetentionPlan:
    """What to delete; raises RetentionError when a run is in flight or the instance is not the one that
    wrote this root (it would mark nothing, and everything would look unused)."""
    if keep < 1:
        raise RetentionError(f"keep must be at least 1 (the latest materialization is read again): {keep}")
    _refuse_while_running(instance, own_run_id)
    marked: set[str] = set()
    folders: dict[str, list[StoredEntry]] = {}
    for key in asset_keys:
        folder = "/".join(key.path)
        entries = store.entries(folder)
        folders[folder] = entries
        paths = list(_materialized_paths(instance, key, keep))
        inside = [rel for rel in (store.relative(path) for path in paths) if rel is not None]
        if entries and not inside:
            raise RetentionError(
                f"the Dagster instance records no materialization of {key.to_user_string()} stored under "
                f"{store.display('')}, yet {store.display(folder)} holds {len(entries)} entries: is "
                "DAGSTER_HOME the instance that wrote this artifact root? Nothing was deleted"
            )
        marked.update(inside)
    _follow_references(store, marked)
    pointer = Registry(store).pointer()
    production = pointer.model_version if pointer is not None else None
    now = time.time() if now is None else now
    plan = RetentionPlan(kept=[], delete=[], too_recent=[])
    for folder, entries in folders.items():
        for entry in entries:
            named = any(rel == entry.rel or rel.startswith(entry.rel + "/") for rel in marked)
            if named or entry.rel.rpartition("/")[2] == production:
                plan.kept.append(entry)
            elif entry.modified is not None and now - entry.modified < min_age_seconds:
                plan.too_recent.append(entry)
            else:
                plan.delete.append(Candidate(entry, f"not named by the latest {keep} of {folder}"))
    return plan


def apply_plan(
    store: ArtifactStore, plan: RetentionPlan, instance: dg.DagsterInstance, own_run_id: str | None = None
) -> None:
    """Delete the plan's entries, checking before each one that no run has started since the plan: a
    run may have gone on to reuse a folder named by its content (the same bytes written again)."""
    for done, candidate in enumerate(plan.delete):
        try:
            _refuse_while_running(instance, own_run_id)
        except RetentionError as exc:
            raise RetentionError(f"stopped after {done} of {len(plan.delete)} deletions: {exc}") from exc
        store.remove(candidate.entry.rel)


def _refuse_while_running(instance: dg.DagsterInstance, own_run_id: str | None) -> None:
    running = [
        run.run_id
        for run in instance.get_runs(filters=dg.RunsFilter(statuses=RUNNING))
        if run.run_id != own_run_id
    ]
    if running:
        raise RetentionError(
            f"{len(running)} run(s) in progress ({', '.join(running[:3])}): a run may be writing artifacts "
            "that no materialization names yet; run retention when none is in progress"
        )


def _materialized_paths(instance: dg.DagsterInstance, key: dg.AssetKey, keep: int) -> Iterator[str]:
    """Every path an asset's latest ``keep`` materializations record: the IO manager's stored output
    and any other path metadata (a model folder, a plot)."""
    for record in instance.fetch_materializations(key, limit=keep).records:
        materialization = record.asset_materialization
        if materialization is None:
            continue
        for name, value in materialization.metadata.items():
            if name == PATH_KEY or isinstance(value, dg.PathMetadataValue):
                yield str(value.value)


def _follow_references(store: ArtifactStore, marked: set[str]) -> None:
    """Add to ``marked`` every path that a marked JSON manifest names, transitively."""
    pending = [rel for rel in marked if rel.endswith(".json")]
    while pending:
        rel = pending.pop()
        try:
            manifest = json.loads(store.read_bytes(rel))
        except (FileNotFoundError, ValueError):
            continue
        for text in _strings(manifest):
            if "/" not in text:
                continue
            found = store.relative(text)
            if found is not None and found not in marked:
                marked.add(found)
                if found.endswith(".json"):
                    pending.append(found)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)

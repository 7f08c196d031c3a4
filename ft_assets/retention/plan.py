"""Which stored artifacts a retention run may delete: a mark-and-sweep over the assets' folders.

The Dagster instance is the record of what was written and what is still in use. Only an entry that this
instance's history names, through a materialization that is no longer among an asset's latest ``keep``,
is deleted: retention deletes what it knows was written and superseded, never what it cannot account for.

- Kept: what each asset's latest ``keep`` materializations name (their stored file, their path metadata,
  and every path their stored manifests name, transitively: an ONNX manifest names its folder and its
  evaluation report), and the production model's own fine-tuned weights (the entry named by its
  version), which the registry's ONNX bundle does not hold. The pipeline reads only the latest
  materialization again (the IO manager loads exactly that one); the others keep recent UI history whole.
- Unknown, kept: entries no materialization of this instance names: a run that failed after writing, or
  another instance writing to the same root. ``include_unknown`` deletes them too.
- Too recent, kept: entries written less than ``min_age`` ago (or of unknown age), and the superseded
  manifests that name them: a manifest is never deleted before the folder it names, or that folder
  would be left named by nothing this instance can read.
- Registry bundles (``registry/<version>/``, what rollback restores): production's and those of the latest
  ``keep`` versions production was switched to are kept, like any bundle a recent materialization names;
  older ones go by the same age rule (``ft_assets.retention.bundles``), each deletion logged in the registry.
- Never listed: the registry's pointer and log, ``production``, ``checkpoints/`` and anything outside the
  assets' own folders.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from ft_assets.promotion.registry import Registry
from ft_assets.retention.bundles import sort_bundles
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
PAGE = 1000


class RetentionError(RuntimeError):
    """A retention run that would be unsafe: nothing (more) is deleted."""


@dataclasses.dataclass(frozen=True)
class Candidate:
    entry: StoredEntry
    reason: str
    version: str | None = None  # a registry bundle's model version: deleted through the registry


@dataclasses.dataclass
class RetentionPlan:
    started: float  # when planning began: a run created since may reuse an entry planned for deletion
    kept: list[StoredEntry]
    delete: list[Candidate]
    too_recent: list[StoredEntry]
    unknown: list[StoredEntry]

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
    include_unknown: bool = False,
    own_run_id: str | None = None,
) -> RetentionPlan:
    """What to delete; raises RetentionError when a run is in flight or the instance is not the one that
    wrote this root (none of an asset's recent materializations is stored under it)."""
    if keep < 1:
        raise RetentionError(f"keep must be at least 1 (the latest materialization is read again): {keep}")
    started = time.time()
    _refuse_if_runs(instance, own_run_id)
    recent: set[str] = set()
    older: set[str] = set()
    folders: dict[str, list[StoredEntry]] = {}
    for key in asset_keys:
        folder = "/".join(key.path)
        folders[folder] = store.entries(folder)  # listed before the records: a later write is not seen
        latest, earlier = _materialized_paths(instance, key, keep)
        inside = _inside(store, latest)
        if folders[folder] and not inside:
            raise RetentionError(
                f"none of the latest {keep} materializations of {key.to_user_string()} that the Dagster "
                f"instance records is stored under {store.display('')}, yet {store.display(folder)} holds "
                f"{len(folders[folder])} entries: is DAGSTER_HOME the instance that writes this artifact "
                "root? Nothing was deleted"
            )
        recent |= inside
        older |= _inside(store, earlier)
    _follow_references(store, recent)
    names_of = _follow_references(store, older)
    registry = Registry(store)
    pointer = registry.pointer()
    production = pointer.model_version if pointer is not None else None
    bundles = sort_bundles(registry, keep, production)
    plan = RetentionPlan(started=started, kept=[], delete=[], too_recent=[], unknown=[])

    def too_recent(entry: StoredEntry) -> bool:
        return entry.modified is None or started - entry.modified < min_age_seconds

    young: set[str] = set()
    superseded: list[StoredEntry] = []
    for entries in folders.values():
        for entry in entries:
            if _named(entry.rel, recent) or entry.rel.rpartition("/")[2] == production:
                plan.kept.append(entry)
            elif not _named(entry.rel, older) and not include_unknown:
                plan.unknown.append(entry)
            elif too_recent(entry):
                plan.too_recent.append(entry)
                young.add(entry.rel)
            else:
                superseded.append(entry)
    for entry in bundles.entries:
        version = bundles.superseded.get(entry.rel)
        if entry in bundles.kept or _named(entry.rel, recent):
            plan.kept.append(entry)
        elif version is None and not include_unknown:
            plan.unknown.append(entry)
        elif too_recent(entry):
            plan.too_recent.append(entry)
        elif version is None:
            plan.delete.append(Candidate(entry, "a registry folder no log entry names"))
        else:
            reason = f"registry bundle: not among the latest {keep} production versions"
            plan.delete.append(Candidate(entry, reason, version))
    for entry in superseded:
        named = names_of.get(entry.rel, set())
        if any(_named(rel, named) for rel in young):
            plan.too_recent.append(entry)  # a manifest goes no sooner than what it names
        elif _named(entry.rel, older):
            plan.delete.append(Candidate(entry, f"superseded: not among the latest {keep}"))
        else:
            plan.delete.append(Candidate(entry, "named by no materialization of this instance"))
    # Folders and data first, the manifests that name them last: a stop part-way leaves no manifest
    # naming a deleted folder that a later run could no longer account for.
    plan.delete.sort(key=lambda candidate: candidate.entry.rel.endswith(".json"))
    return plan


def apply_plan(
    store: ArtifactStore,
    plan: RetentionPlan,
    instance: dg.DagsterInstance,
    own_run_id: str | None = None,
    on_deleted: Callable[[Candidate], None] = lambda candidate: None,
) -> None:
    """Delete the plan's entries, checking before each one that no run is in progress or was created
    since planning began: such a run may reuse an entry named by its content (the same bytes again)."""
    for done, candidate in enumerate(plan.delete):
        try:
            _refuse_if_runs(instance, own_run_id, since=plan.started)
        except RetentionError as exc:
            raise RetentionError(f"stopped after {done} of {len(plan.delete)} deletions: {exc}") from exc
        try:
            if candidate.version is None:
                store.remove(candidate.entry.rel)
            elif not Registry(store).delete_bundle(candidate.version, candidate.reason):
                raise RetentionError(
                    f"stopped after {done} of {len(plan.delete)} deletions: production was switched to "
                    f"model {candidate.version} while retention ran; its bundle is kept"
                )
        except OSError as exc:
            raise RetentionError(
                f"stopped after {done} of {len(plan.delete)} deletions: could not delete "
                f"{store.display(candidate.entry.rel)}: {exc}"
            ) from exc
        on_deleted(candidate)


def _refuse_if_runs(instance: dg.DagsterInstance, own_run_id: str | None, since: float | None = None) -> None:
    filters = [dg.RunsFilter(statuses=RUNNING)]
    if since is not None:
        filters.append(dg.RunsFilter(created_after=datetime.fromtimestamp(since, UTC)))
    others = {
        run.run_id: run.status.value
        for runs_filter in filters
        for run in instance.get_runs(filters=runs_filter)
        if run.run_id != own_run_id
    }
    if others:
        listed = ", ".join(f"{run_id} ({status.lower()})" for run_id, status in list(others.items())[:3])
        raise RetentionError(
            f"{len(others)} other run(s) in progress or started since retention began ({listed}): a run may "
            "write or reuse artifacts that no materialization names yet; run retention when none is running "
            "(a run whose process died stays in progress until run monitoring fails it or you terminate it "
            "in the UI)"
        )


def _materialized_paths(
    instance: dg.DagsterInstance, key: dg.AssetKey, keep: int
) -> tuple[list[str], list[str]]:
    """Every path the asset's latest ``keep`` materializations record, and every path the earlier ones
    record: the IO manager's stored output and any other path metadata (a model folder, a plot)."""
    latest: list[str] = []
    earlier: list[str] = []
    cursor: str | None = None
    seen = 0
    while True:
        page = instance.fetch_materializations(key, limit=PAGE, cursor=cursor)
        for record in page.records:
            target = latest if seen < keep else earlier
            seen += 1
            materialization = record.asset_materialization
            if materialization is None:
                continue
            for name, value in materialization.metadata.items():
                if name == PATH_KEY or isinstance(value, dg.PathMetadataValue):
                    target.append(str(value.value))
        if not page.has_more:
            return latest, earlier
        cursor = page.cursor


def _inside(store: ArtifactStore, paths: Iterable[str]) -> set[str]:
    return {rel for rel in (store.relative(path) for path in paths) if rel is not None}


def _follow_references(store: ArtifactStore, marked: set[str]) -> dict[str, set[str]]:
    """Add to ``marked`` every path a marked JSON manifest names, transitively; return what each names."""
    names_of: dict[str, set[str]] = {}
    pending = [rel for rel in marked if rel.endswith(".json")]
    while pending:
        rel = pending.pop()
        try:
            manifest = json.loads(store.read_bytes(rel))
        except (FileNotFoundError, ValueError):
            continue
        named = {found for text in _strings(manifest) if "/" in text and (found := store.relative(text))}
        names_of[rel] = named - {rel}
        for found in named - marked:
            marked.add(found)
            if found.endswith(".json"):
                pending.append(found)
    return names_of


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _named(rel: str, paths: Iterable[str]) -> bool:
    """Whether any of ``paths`` is the entry ``rel`` or lies inside it (a file inside a model folder)."""
    return any(path == rel or path.startswith(rel + "/") for path in paths)


def megabytes(size: int) -> float:
    """How retention reports sizes: MB (10^6 bytes), one decimal."""
    return round(size / 1e6, 1)

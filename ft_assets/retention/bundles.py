"""Which archived registry bundles retention may delete: those of versions production no longer uses.

Every promotion archives a bundle at ``registry/<version>/`` (about 110 MB for MiniLM), which rollback
restores. The registry's own log is the record here, as the Dagster instance is for asset folders:

- Kept: production's bundle, and those of the latest ``keep`` versions production was switched to
  (promoted, adopted or rolled back to), the rollback targets.
- Superseded: the bundle of any other version the log records as archived; deleted by
  ``Registry.delete_bundle``, which logs it and never deletes production's own.
- Unknown: a folder of a version the log does not name (a promotion killed after archiving, before its
  switch), kept unless asked, like unknown asset entries.
- Never listed: the pointer, the log and anything else in ``registry/`` that is not a folder of a version.
"""

from __future__ import annotations

import dataclasses

from ft_serving.production import POINTER_PATH, REGISTRY_DIR

from ft_assets.promotion.registry import LEGACY_LOG, LOG_DIR, SWITCHES, Registry
from ft_resources.artifact_store import StoredEntry

_NOT_BUNDLES = {POINTER_PATH, LEGACY_LOG, LOG_DIR}


@dataclasses.dataclass
class BundleSort:
    kept: list[StoredEntry]
    superseded: dict[str, str]  # entry rel -> its model version
    unknown: list[StoredEntry]
    entries: list[StoredEntry]


def sort_bundles(registry: Registry, keep: int, production: str | None) -> BundleSort:
    listed = [e for e in registry.store.entries(REGISTRY_DIR) if e.rel not in _NOT_BUNDLES]
    switched = [e["model_version"] for e in registry.entries() if e["action"] in SWITCHES]
    recent = list(dict.fromkeys(reversed(switched)))[:keep]
    kept_versions = {*recent, *([production] if production is not None else [])}
    sort = BundleSort(kept=[], superseded={}, unknown=[], entries=listed)
    for entry in listed:
        version = entry.rel.rpartition("/")[2]
        if version in kept_versions:
            sort.kept.append(entry)
        elif version in switched:
            sort.superseded[entry.rel] = version
        else:
            sort.unknown.append(entry)
    return sort

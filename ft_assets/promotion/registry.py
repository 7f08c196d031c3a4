"""Every promoted bundle, kept immutable by model version, the production pointer, and an append-only log.

A promotion is three writes: the bundle to ``registry/<version>/`` (never changed afterwards), then the
pointer ``registry/production.json`` (the one atomic switch, carrying its own log entry), then that
entry as its own object in ``registry/log/``. A crash before the pointer leaves the old production; a
crash after it leaves the new one, and its entry is read from the pointer until the next writer logs it.
Writers of a local root hold a file lock; on an object store production_model's Dagster pool admits
one run at a time.

Retention may delete the bundle of a version production no longer uses (``delete_bundle``, logged as
``prune``): production's own bundle never, and a switch to a bundle being deleted is refused (each side
checks the other after making its own intent visible, so with no lock on an object store they cannot
both go ahead). A pruned version can be promoted again (archived afresh), not rolled back to.

On an object store the bundle's files are separate PUTs: the store's folder marker tells a whole
archive from one a killed writer left part-way (rewritten, never switched to). An archive uploaded
before markers existed is kept only when its files match checksums the log recorded for its version
(or, with nothing recorded, the bundle being promoted); otherwise it is rewritten, and a rewrite that
would change bytes the log vouches for is refused.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ft_serving.checksums import digest_folder, mismatches
from ft_serving.production import (
    POINTER_PATH,
    PRODUCTION_LINK,
    REGISTRY_DIR,
    ProductionPointer,
    bundle_path,
)
from ft_serving.spec import REPORT_FILE
from ft_serving.sync import SyncError

from ft_resources.artifact_store import ArtifactStore, FolderState, IncompleteFolderError

LOG_DIR = f"{REGISTRY_DIR}/log"
LEGACY_LOG = f"{REGISTRY_DIR}/promotions.json"  # one JSON list, written by earlier versions
LOCK = f"{REGISTRY_DIR}/.lock"
# Log actions that switch production to a version, each recording the archived bundle's checksums.
SWITCHES = ("promote", "adopt", "rollback")
PRUNE = "prune"  # retention deleted the version's archived bundle


class _Unchecked:
    """No expected pointer: a switch that decides nothing against the current one (rollback, adopt)."""


UNCHECKED = _Unchecked()
Expected = ProductionPointer | _Unchecked | None  # None: the decision was made with no production model


class RegistryError(RuntimeError):
    """The registry and the production pointer disagree in a way only a person should resolve."""


class Registry:
    def __init__(self, store: ArtifactStore) -> None:
        self.store = store
        self._held = False

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the writers' lock, re-entrantly, across a read-decide-switch sequence."""
        if self._held:
            yield
            return
        with self.store.lock(LOCK):
            self._held = True
            try:
                yield
            finally:
                self._held = False

    def entries(self) -> list[dict[str, Any]]:
        """The log, oldest first: every promotion, rejection and rollback."""
        logged = self.store.read_json(LEGACY_LOG) if self.store.exists(LEGACY_LOG) else []
        logged += self._read_log()
        pointer = self.pointer()
        if pointer is not None and pointer.entry and not _logged(pointer.entry, logged):
            logged.append(pointer.entry)  # the writer died between the switch and its log write
        return logged

    def versions(self) -> list[str]:
        return [e["model_version"] for e in self.entries() if e["action"] == "promote"]

    def pointer(self) -> ProductionPointer | None:
        if not self.store.exists(POINTER_PATH):
            return None
        data = self.store.read_bytes(POINTER_PATH)
        return ProductionPointer.from_json(data, self.store.display(POINTER_PATH))

    def champion(self) -> tuple[ProductionPointer, Path] | None:
        """The production pointer and a local copy of its bundle; None only when nothing was promoted."""
        pointer = self.pointer() or self._adopt_older_layout()
        if pointer is None:
            promoted = self.versions()
            if promoted:
                raise RegistryError(
                    f"the registry log records promoted model {promoted[-1]}, but "
                    f"{self.store.display(POINTER_PATH)} is missing: refusing to treat the next model as "
                    f"the first; restore production with `make rollback VERSION={promoted[-1]}`"
                )
            return None
        try:
            return pointer, self.store.verified_bundle(pointer)
        except SyncError as error:
            # Scored from other bytes than were promoted, the champion's score would decide nothing.
            raise RegistryError(
                f"the production bundle cannot be scored as the champion: {error}. Restore its files from a "
                "copy that matches, or switch production to a sound version with `make rollback VERSION=...`"
            ) from None

    def _adopt_older_layout(self) -> ProductionPointer | None:
        """A local root from before the pointer: its production/ folder held the last promoted bundle.

        Adopted only when that folder's report names the version the old log promoted last and the
        registry holds that version's bundle; anything else is left for a person (champion() refuses).
        """
        folder = Path(self.store.uri(PRODUCTION_LINK))
        if not self.store.is_local or folder.is_symlink() or not self.store.exists(LEGACY_LOG):
            return None
        try:
            version = json.loads((folder / REPORT_FILE).read_text())["model_version"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        promoted = self.versions()
        if not promoted or promoted[-1] != version or not self.store.exists(bundle_path(version)):
            return None
        files = digest_folder(self.store.local_path(bundle_path(version)))
        reason = "adopted the production folder of the older layout"
        self._switch({"model_version": version, "action": "adopt", "reason": reason}, files)
        return self.pointer()

    def publish(
        self, bundle: Path, entry: dict[str, Any], *, expected: Expected = UNCHECKED
    ) -> dict[str, Any]:
        """Archive ``bundle`` under its version (once), then switch production to it.

        A version promoted before keeps its first archived copy; the checksums recorded are the
        archived files', which are the ones production serves. An archive a killed writer left
        part-way is written again first. ``expected``: the pointer the decision was made against (None:
        no production model); the switch is refused if production has moved since (see _switch).
        """
        version = entry["model_version"]
        rel = bundle_path(version)
        if (state := self.store.folder_state(rel)) is not FolderState.COMPLETE:
            self._archive(Path(bundle), version, state)
        # Fetched afresh: a cached copy may predate a rewrite of an archive cut off part-way.
        archived = self.store.local_path(rel, refresh=True)
        recorded = _latest_checksums(version, self.entries())
        if recorded is not None and (problems := mismatches(archived, recorded)):
            # As rollback does: the pointer would otherwise record the damage as the bundle's checksums.
            raise RegistryError(
                f"the archive {self.store.display(rel)} of model {version} no longer matches the checksums "
                f"the registry log recorded for it: {'; '.join(problems)}; nothing was switched. Restore its "
                "files from a copy that matches the log, or promote a new model version"
            )
        return self._switch({**entry, "action": "promote"}, recorded or digest_folder(archived), expected)

    def _archive(self, bundle: Path, version: str, state: FolderState) -> None:
        """Write ``bundle`` to ``registry/<version>/``, which holds no complete archive yet.

        What is there is a killed writer's partial upload, or (``UNMARKED``) an archive an earlier
        version uploaded without a marker: complete, or partial, nothing on the store says which. That
        one is kept, and marked complete, when its files are exactly those the log recorded for this
        version or, with none recorded, exactly the bundle's. Otherwise it is rewritten, unless the log
        recorded checksums that the bundle does not match: rollback, ft-sync and perhaps the pointer
        itself verify against those, so an archive there may only be rewritten with those very bytes,
        and otherwise a person must decide. (An archive that is not there at all is written as before.)
        """
        rel = bundle_path(version)
        recorded = None if state is FolderState.ABSENT else _latest_checksums(version, self.entries())
        if state is FolderState.UNMARKED:
            archived = digest_folder(self.store.local_path(rel, refresh=True))
            if archived == (recorded if recorded is not None else digest_folder(bundle)):
                self.store.mark_complete(rel)
                return
        if recorded is not None and digest_folder(bundle) != recorded:
            raise RegistryError(
                f"the archive {self.store.display(rel)} of model {version} is incomplete or damaged, and "
                "the bundle now promoted differs from the checksums the registry log recorded for that "
                "version; refusing to rewrite an archive the log vouches for with other bytes. Restore its "
                "files from a copy that matches the log's checksums, or promote a new model version"
            )
        with self.store.write_dir(rel, replace=False) as staging:
            for item in bundle.iterdir():
                if item.is_file():
                    shutil.copyfile(item, staging / item.name)

    def repair(self) -> None:
        """Finish what a writer killed after its switch left undone (see _repair), writing nothing else:
        for a decision that moves nothing, such as a model found already in production."""
        with self.exclusive():
            self._repair()

    def record_rejection(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self.exclusive():
            self._repair()
            return self._append({**entry, "action": "reject"})

    def rollback(self, version: str) -> dict[str, Any]:
        """Switch production back to a version that was promoted before, after checking its files."""
        entries = self.entries()
        promotions = [e for e in entries if e["action"] == "promote" and e["model_version"] == version]
        if not promotions:
            known = ", ".join(dict.fromkeys(self.versions())) or "none"
            raise ValueError(f"model version {version} was never promoted (promoted versions: {known})")
        if (pruned := _pruned(version, entries)) is not None:
            kept = [v for v in dict.fromkeys(self.versions()) if _pruned(v, entries) is None]
            raise ValueError(
                f"the archived bundle of model version {version} was deleted by retention at "
                f"{pruned['time']} ({pruned.get('reason', 'no reason recorded')}); it cannot be restored. "
                "Promote that model again, or roll back to a version whose bundle is kept: "
                f"{', '.join(kept) or 'none'}"
            )
        files = _recorded_checksums(version, promotions[-1], entries)
        try:
            archived = self.store.local_path(bundle_path(version), refresh=True)
        except IncompleteFolderError as error:
            raise ValueError(f"archived bundle {bundle_path(version)} is damaged: {error}") from None
        if problems := mismatches(archived, files):
            raise ValueError(f"archived bundle {bundle_path(version)} is damaged: {'; '.join(problems)}")
        return self._switch({"model_version": version, "action": "rollback"}, files)

    def delete_bundle(self, version: str, reason: str) -> bool:
        """Delete ``version``'s archived bundle and log it; False (nothing deleted) while production uses
        it, including when a switch to it lands while the deletion is under way."""

        def claim() -> bool:
            pointer = self.pointer()
            if pointer is not None and pointer.model_version == version:
                return False
            # Logged before anything is deleted: a retention killed part-way leaves a version the log
            # calls pruned (rollback refuses it, a new promotion archives it afresh, the next retention
            # deletes what is left), never a bundle gone without a record.
            self._append({"model_version": version, "action": PRUNE, "reason": reason})
            return True

        with self.exclusive():
            self._repair()
            return self.store.remove(bundle_path(version), claim=claim)

    def rolled_back_from(self, version: str) -> dict[str, Any] | None:
        """The rollback entry that last switched production away from ``version``, unless the version
        was promoted again since: an operator withdrew it, and no gate should bring it back unasked."""
        current, withdrawn = None, None
        for entry in self.entries():
            if entry["action"] not in SWITCHES:
                continue
            if entry["action"] == "rollback" and current == version and entry["model_version"] != version:
                withdrawn = entry
            elif entry["model_version"] == version:
                withdrawn = None
            current = entry["model_version"]
        return withdrawn

    def _switch(
        self, entry: dict[str, Any], files: dict[str, str], expected: Expected = UNCHECKED
    ) -> dict[str, Any]:
        with self.exclusive():
            if not isinstance(expected, _Unchecked) and (now := self.pointer()) != expected:
                # A rollback (a CLI, outside the promotion pool) or another writer moved production while
                # this decision was made against the old one. Locally exclusive() already prevents it; on
                # an object store, which has no lock, this check narrows the race to this read and write.
                was = expected.model_version if expected else "none"
                moved = (
                    f"{now.model_version} ({now.entry.get('action', 'switch')} at {now.promoted_at})"
                    if now
                    else "none"
                )
                raise RegistryError(
                    f"production changed while this decision was made: it was {was}, now {moved}; nothing "
                    "was switched. Materialize production_model again to decide against the current model"
                )
            self._repair()
            stamped = _stamp({**entry, "files": files})
            version = stamped["model_version"]
            pointer = ProductionPointer(version, bundle_path(version), stamped["time"], files, stamped)
            self._require_whole(version)  # retention may have deleted it since it was verified
            previous = self.store.read_bytes(POINTER_PATH) if self.store.exists(POINTER_PATH) else None
            self.store.write_bytes(POINTER_PATH, pointer.to_json())  # the switch
            try:
                # Retention marks a bundle before it checks the pointer, and this checks the bundle after
                # writing the pointer: on an object store, with no lock, one of the two sees the other.
                self._require_whole(version)
            except RegistryError:
                if previous is None:
                    self.store.remove(POINTER_PATH)
                else:
                    self.store.write_bytes(POINTER_PATH, previous)
                raise
            self.store.write_json(_log_path(stamped), stamped)
            self.store.point_symlink(PRODUCTION_LINK, pointer.bundle)
        return stamped

    def _require_whole(self, version: str) -> None:
        if self.store.folder_state(bundle_path(version)) not in (FolderState.COMPLETE, FolderState.UNMARKED):
            raise RegistryError(
                f"the archived bundle {self.store.display(bundle_path(version))} of model {version} is being "
                "deleted or is gone (retention ran at the same time); production was not switched to it"
            )

    def _append(self, entry: dict[str, Any]) -> dict[str, Any]:
        stamped = _stamp(entry)
        self.store.write_json(_log_path(stamped), stamped)
        return stamped

    def _repair(self) -> None:
        """Finish what a writer killed after its switch left undone: its log entry and the symlink."""
        pointer = self.pointer()
        if pointer is None:
            return
        if pointer.entry and not _logged(pointer.entry, self._read_log()):
            self.store.write_json(_log_path(pointer.entry), pointer.entry)
        self.store.point_symlink(PRODUCTION_LINK, pointer.bundle)

    def _read_log(self) -> list[dict[str, Any]]:
        names = [n for n in self.store.listdir(LOG_DIR) if n.endswith(".json") and not n.startswith(".")]
        return [self.store.read_json(f"{LOG_DIR}/{name}") for name in names]


def _latest_checksums(version: str, entries: list[dict[str, Any]]) -> dict[str, str] | None:
    """The archive's checksums as the log last recorded them, or None when no entry records any."""
    for entry in reversed(entries):
        if entry["model_version"] != version:
            continue
        if entry["action"] == PRUNE:
            return None  # the archive those checksums described was deleted; a new one vouches for itself
        if entry["action"] in SWITCHES and entry.get("files"):
            return entry["files"]
    return None


def _pruned(version: str, entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The prune entry that deleted ``version``'s bundle, unless the version was archived again since."""
    for entry in reversed(entries):
        if entry["model_version"] == version and entry["action"] in (PRUNE, "promote"):
            return entry if entry["action"] == PRUNE else None
    return None


def _recorded_checksums(
    version: str, promotion: dict[str, Any], entries: list[dict[str, Any]]
) -> dict[str, str]:
    """The archive's checksums as last recorded: by a promotion, an adoption or an earlier rollback.

    The archive never changes, so any of them verifies it. Without any, the archive cannot be checked
    and the pointer would list no checksums, which a remote ft-serve refuses to sync: refuse here,
    before anything is switched.
    """
    if (files := _latest_checksums(version, entries)) is not None:
        return files
    which = ", ".join(f"{key} {promotion[key]}" for key in ("id", "time") if promotion.get(key))
    verifiable = [e["model_version"] for e in entries if e["action"] in SWITCHES and e.get("files")]
    raise RegistryError(
        f"cannot roll back to model {version}: its promotion log entry ({which or 'no id or time'}) "
        "records no file checksums (entries written by earlier versions lack them), so the archived "
        f"bundle {bundle_path(version)} cannot be verified and ft-serve would refuse a production "
        "pointer that lists none; promote that model again, or roll back to a version whose entry has "
        f"checksums: {', '.join(dict.fromkeys(verifiable)) or 'none'}"
    )


def _stamp(entry: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {**entry, "id": f"{now:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}", "time": now.isoformat()}


def _log_path(entry: dict[str, Any]) -> str:
    # Names sort by time, so listing the folder reads the log in order; one object per entry
    # means no writer ever rewrites another's entry.
    return f"{LOG_DIR}/{entry['id']}.json"


def _logged(entry: dict[str, Any], logged: list[dict[str, Any]]) -> bool:
    return entry.get("id") in {e.get("id") for e in logged}

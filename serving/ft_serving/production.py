"""The production pointer: which immutable registry bundle is production, switched in one atomic write.

Every promoted bundle lives, never modified, at ``<root>/registry/<model_version>/``. Production is the
small JSON file ``<root>/registry/production.json`` naming one of them; switching production is one
atomic write of that file (temp file + rename on a local disk, a single PUT on an object store), so a
reader finds the old or the new bundle, never none and never a mix. On a local disk the registry also
keeps the symlink ``<root>/production`` pointing at the same bundle, for people and tools that want a
fixed path. Readers (ft-predict, ft-serve, the promotion gate, rollback) parse it here and reach the
bundle's files through ``ft_serving.sync.verified_bundle``, which checks them against it.
Torch-free and Dagster-free; fsspec reaches object stores (``FSSPEC_S3_ENDPOINT_URL`` /
``AWS_ENDPOINT_URL`` and the usual credential variables apply).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from ft_serving.bundle import BundleError
from ft_serving.locations import artifacts_dir
from ft_serving.spec import is_plain_name

REGISTRY_DIR = "registry"
POINTER_PATH = f"{REGISTRY_DIR}/production.json"
PRODUCTION_LINK = "production"
# The user info of a URI (``key:secret@``); no whitespace, so it stays inside one URI of a message. A
# secret pasted unencoded may hold "/" (AWS secret keys do): after ``user:`` everything up to the last "@"
# of the URI is taken as the password, so a slash cannot end the match early and leave the rest shown.
_USER_PASSWORD = r"[^/@\s:]+:\S*@"
_CREDENTIALS = re.compile(rf"(?<=://)(?:{_USER_PASSWORD}|[^/@\s]+@)")


class ProductionError(BundleError):
    """No usable production model: the pointer is missing or unreadable; the message names the file."""


@dataclass(frozen=True)
class ProductionPointer:
    """The content of ``registry/production.json``."""

    model_version: str
    bundle: str  # relative to the artifact root: registry/<model_version>
    promoted_at: str  # ISO 8601, UTC
    files: dict[str, str] = field(default_factory=dict)  # bundle file -> sha256, to verify a copy
    entry: dict[str, Any] = field(default_factory=dict)  # the registry log entry of this switch

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes, source: str) -> ProductionPointer:
        try:
            raw = json.loads(data)
        except ValueError as error:
            raise ProductionError(f"{source}: not valid JSON ({error})") from None
        if not isinstance(raw, dict):
            raise ProductionError(f"{source}: expected a JSON object, got {type(raw).__name__}")
        for key in ("model_version", "bundle", "promoted_at"):
            if not isinstance(raw.get(key), str) or not raw[key]:
                raise ProductionError(f"{source}: '{key}' must be a non-empty string")
        bundle = PurePosixPath(raw["bundle"])
        # The pointer names a folder inside the registry, never a path outside the artifact root.
        if bundle.is_absolute() or ".." in bundle.parts or bundle.parts[:1] != (REGISTRY_DIR,):
            raise ProductionError(f"{source}: 'bundle' must be a path under {REGISTRY_DIR}/, got {bundle}")
        # The model version names the reader's cache folder (ft_serving.sync): one plain name.
        if not is_plain_name(raw["model_version"]):
            raise ProductionError(
                f"{source}: 'model_version' must be a plain name, got {raw['model_version']!r}"
            )
        files, entry = raw.get("files", {}), raw.get("entry", {})
        if not isinstance(files, dict) or not isinstance(entry, dict):
            raise ProductionError(f"{source}: 'files' and 'entry' must be JSON objects")
        # Readers join these names to a bundle folder, to write a fetched copy or to hash one; a name
        # that is absolute or climbs out would write or read anywhere. Bundles are flat folders (the
        # registry archives a bundle's top-level files only, spec.BundleFiles names plain files).
        for name, digest in files.items():
            if not is_plain_name(name):
                raise ProductionError(
                    f"{source}: 'files' may list only plain file names inside the bundle, got {name!r}"
                )
            if not isinstance(digest, str):
                raise ProductionError(f"{source}: 'files' must map {name!r} to a SHA-256 string")
        return cls(raw["model_version"], raw["bundle"], raw["promoted_at"], files, entry)


def mask_credentials(text: str, root: str | None = None) -> str:
    """``s3://key:secret@bucket/x`` -> ``s3://***@bucket/x``, wherever it appears in ``text``.

    Filesystems drop the scheme from the paths in their own errors (``key:secret@bucket/x``); with the
    ``root`` such a message came from, that root's user info is masked wherever it appears as well.
    """
    masked = _CREDENTIALS.sub("***@", text)
    if root and (userinfo := _CREDENTIALS.search(root)):
        masked = masked.replace(userinfo.group(0), "***@")
    return masked


_PASSWORD = re.compile(rf"(?<=://){_USER_PASSWORD}")


def refuse_password(root: str) -> str:
    """``root`` itself, or ValueError when its URI carries a password (``user:password@``).

    A root is configuration: Dagster stores a resource's settings in its run records and job snapshots,
    and shows them on its Resources page, so a password there is kept and shown where no masking reaches.
    """
    if _PASSWORD.search(root):
        raise ValueError(
            f"the artifact root {mask_credentials(root)} carries a password (user:password@ in the URI); "
            "give the store its credentials through the environment instead (AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY for s3://, FSSPEC_<PROTOCOL>_PASSWORD, say, for other fsspec stores)"
        )
    return root


def bundle_path(model_version: str) -> str:
    """Where the registry keeps a model version's bundle, relative to the artifact root."""
    if not is_plain_name(model_version):
        raise ValueError(f"not a model version: {model_version!r}")
    return f"{REGISTRY_DIR}/{model_version}"


def location(root: str, rel: str) -> str:
    """``rel`` under ``root``: an absolute local path, or a URI for an fsspec root."""
    fs, _ = fsspec.core.url_to_fs(root)
    if isinstance(fs, LocalFileSystem):
        return str(Path(root.removeprefix("file://")).absolute() / rel)
    return "/".join(part for part in (root.rstrip("/"), rel) if part)


def read_production_pointer(root: str | None = None) -> ProductionPointer | None:
    """The pointer under ``root`` (default ``$FT_ARTIFACTS_DIR``), or None when nothing was promoted."""
    uri = location(root or artifacts_dir(), POINTER_PATH)
    fs, path = fsspec.core.url_to_fs(uri)
    try:
        data = fs.cat_file(path)
    except FileNotFoundError:
        return None
    return ProductionPointer.from_json(data, mask_credentials(uri))

"""``ft-sync``: the production bundle of a remote artifact root, copied to a local cache and verified.

ONNX Runtime and tokenizers read local files, so a bundle on an object store (``FT_ARTIFACTS_DIR=
s3://bucket/prefix``) is fetched first. The production pointer names the bundle and the SHA-256 of each
of its files; a copy is used only when every file matches. Bundles never change once published, so the
cache keeps one folder per model version and a verified copy is reused without downloading again.
Endpoint and credentials come from the standard variables (``AWS_ENDPOINT_URL`` or
``FSSPEC_S3_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ...) through fsspec.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import fsspec
from fsspec.implementations.local import LocalFileSystem

from ft_serving.bundle import BundleError
from ft_serving.checksums import mismatches
from ft_serving.local_writes import staged_dir
from ft_serving.locations import artifacts_dir
from ft_serving.production import (
    POINTER_PATH,
    ProductionError,
    ProductionPointer,
    location,
    mask_credentials,
    read_production_pointer,
)

EXIT_OK = 0
EXIT_FAILED = 2


class SyncError(BundleError):
    """The bundle could not be fetched intact; the message names the bundle and the files at fault."""


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ft-serving" / "bundles"


def is_remote(root: str) -> bool:
    fs, _ = fsspec.core.url_to_fs(root)
    return not isinstance(fs, LocalFileSystem)


def production_bundle(root: str | None = None, cache: Path | None = None) -> Path:
    """A local folder holding the production bundle of ``root`` (default ``$FT_ARTIFACTS_DIR``),
    verified against the pointer: read in place on a local root, synced into ``cache`` from a remote one.
    """
    root = root or artifacts_dir()
    pointer = read_production_pointer(root)
    if pointer is None:
        raise ProductionError(
            f"no production model: {mask_credentials(location(root, POINTER_PATH))} does not exist "
            "(train and promote one with `make run`, or pass --model)"
        )
    return verified_bundle(root, pointer, cache)


def verified_bundle(root: str, pointer: ProductionPointer, cache: Path | None = None) -> Path:
    """A local folder holding the bundle ``pointer`` names, each file it lists with the SHA-256 it lists.

    The one way from a pointer to bundle files: ft-sync, ft-predict, ft-serve's watcher, the promotion
    gate's champion and batch_predictions all read through it. A local root's bundle is checked in place
    (a pointer from before checksums lists none, and is taken as it is); a remote one is fetched into
    ``cache`` (one folder per model version, reused while it still matches) and checked before it is
    used. SyncError names the bundle and every file at fault.
    """
    if not is_remote(root):
        folder = Path(location(root, pointer.bundle))
        if problems := mismatches(folder, pointer.files):
            raise SyncError(
                f"bundle {pointer.model_version} at {folder} does not match the production pointer's "
                f"checksums: {'; '.join(problems)}"
            )
        return folder
    source = location(root, pointer.bundle)
    if not pointer.files:
        raise SyncError(f"the production pointer lists no checksums for bundle {pointer.model_version}")
    target = (cache or default_cache()) / pointer.model_version
    if target.is_dir() and not mismatches(target, pointer.files):
        return target
    try:
        # Verified in staging; a damaged earlier copy is then replaced in one rename.
        with staged_dir(target, replace=True) as staging:
            fs, path = fsspec.core.url_to_fs(source)
            for name in pointer.files:  # plain file names: the pointer refuses any other
                fs.get_file(f"{path}/{name}", str(staging / name))
            if problems := mismatches(staging, pointer.files):
                raise SyncError(f"bundle {pointer.model_version} fetched corrupt: {'; '.join(problems)}")
    except FileNotFoundError as error:
        raise SyncError(
            f"bundle {pointer.model_version} is incomplete on the store: {mask_credentials(str(error), root)}"
        ) from None
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ft-sync",
        description="Fetch the production bundle of an artifact root (an s3:// URI, say) into a local "
        "cache, verify every file's SHA-256 against the production pointer, and print the folder, "
        "ready for `ft-predict --model` or `ft-serve --model`.",
    )
    parser.add_argument("--root", default=None, help="artifact root (default: $FT_ARTIFACTS_DIR)")
    parser.add_argument("--cache", type=Path, default=None, help=f"local cache (default: {default_cache()})")
    args = parser.parse_args(argv)
    try:
        folder = production_bundle(args.root, args.cache)
    except BundleError as error:  # ProductionError and SyncError included
        print(f"ft-sync: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(folder)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

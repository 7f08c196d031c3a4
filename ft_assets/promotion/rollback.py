"""`python -m ft_assets.promotion.rollback [VERSION]`: list the registry, or switch production back."""

from __future__ import annotations

import argparse
import sys

from ft_assets.promotion.registry import Registry, RegistryError
from ft_resources.artifact_store import ArtifactStore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("version", nargs="?", help="model version to restore; omit to list the registry")
    args = parser.parse_args(argv)
    registry = Registry(ArtifactStore())
    if args.version is None:
        for entry in registry.entries():
            print(
                f"{entry['time']}  {entry['action']:<8} {entry['model_version']}  {entry.get('reason', '')}"
            )
        pointer = registry.pointer()
        print(f"production: {pointer.model_version if pointer else 'none'}")
        return 0
    try:
        registry.rollback(args.version)
    except (ValueError, RegistryError) as exc:
        print(f"rollback: {exc}", file=sys.stderr)
        return 2
    print(f"production is now model {args.version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

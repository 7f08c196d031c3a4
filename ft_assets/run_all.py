"""`make run`: materialize the whole graph on this machine, recorded in DAGSTER_HOME's instance."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import dagster as dg
import yaml
from ft_serving.production import POINTER_PATH, PRODUCTION_LINK, read_production_pointer
from ft_serving.spec import REPORT_FILE

from ft_resources.artifact_store import ArtifactStore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, help="Dagster run config (YAML), as `dagster ... -c` takes")
    args = parser.parse_args(argv)
    run_config = yaml.safe_load(args.config.read_text()) if args.config else {}

    from ft_assets.definitions import ALL_ASSETS, ALL_CHECKS, defs

    started = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        result = dg.materialize(
            [*ALL_ASSETS, *ALL_CHECKS],
            instance=instance,
            resources=defs.resources,
            run_config=run_config or None,
            raise_on_error=False,
        )
    elapsed = time.perf_counter() - started
    if not result.success:
        for event in result.get_step_failure_events():
            print(f"FAILED {event.step_key}: {event.event_specific_data.error.message}", file=sys.stderr)
        print(
            f"run {result.run_id} failed after {elapsed:.0f} s; `make ui` shows the details", file=sys.stderr
        )
        return 1
    location, report = production_summary(defs.resources["artifact_store"])
    print(f"\nrun {result.run_id} succeeded in {elapsed:.0f} s")
    print(f"production bundle: {location}")
    print(
        f"model {report['model_version']} on data {report['data_version']}: "
        f"accuracy {report['accuracy']:.3f}, macro F1 {report['macro_f1']:.3f} "
        f"on {report['n_test']} test texts "
        f"(majority-class baseline {report['majority_baseline']['accuracy']:.3f})"
    )
    lexical = report.get("lexical_baseline")
    if lexical is not None:
        margin = report["margin_over_lexical_baseline"]["macro_f1"]
        print(
            f"TF-IDF + logistic regression on the same split: accuracy {lexical['accuracy']:.3f}, "
            f"macro F1 {lexical['macro_f1']:.3f}; fine-tuning margin {margin:+.3f} macro F1"
        )
    return 0


def production_summary(store: ArtifactStore) -> tuple[str, dict[str, Any]]:
    """Where the production bundle is, as a user may read it (credentials masked), and its report."""
    pointer = read_production_pointer(store.root)
    if pointer is None:
        raise RuntimeError(f"the run succeeded but {store.display(POINTER_PATH)} names no production model")
    # On a local disk the `production` link is the stable path; an object store has only the pointer.
    shown = PRODUCTION_LINK if store.is_local else pointer.bundle
    return store.display(shown), store.read_json(f"{pointer.bundle}/{REPORT_FILE}")


if __name__ == "__main__":
    sys.exit(main())

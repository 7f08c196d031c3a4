"""Variant minus baseline across the held-out sets of a bench_defaults study, in accuracy points.

A study writes one result file per set: `defaults_<set>_<tag>.json` for the sets sst2_long (samples 0-3:
`sst2_long`, `sst2_long_seed1` ...), sst2 and bbc. This prints, for each variant of the tagged files
(and each soup's averaged weights), its final accuracy minus the baseline's on the same set, and the
mean. The baseline is a variant of the same files or, with `--baseline-tag`, of another study's files
(same sets, another run).

    python -m benchmarks.compare_defaults --tag probe_lr1.5e-4_2e-4 \\
        --baseline-tag probe_soup_lr5e-5 --baseline lr1e-4_bf16_mean_probe_soup2
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.common import RESULTS

SETS = ("sst2_long", "sst2_long_seed1", "sst2_long_seed2", "sst2_long_seed3", "sst2", "bbc")


def _variants(tag: str) -> dict[str, dict]:
    """Each set's variants, for the sets that have a file with this tag."""
    found = {}
    for name in SETS:
        path = RESULTS / f"defaults_{name}_{tag}.json"
        if path.exists():
            found[name] = json.loads(path.read_text())["variants"]
    return found


def compare(tag: str, baseline: str, baseline_tag: str | None = None) -> dict[str, dict[str, float]]:
    """{variant: {set: points above the baseline}} over the sets both studies ran."""
    study = _variants(tag)
    reference = _variants(baseline_tag or tag)
    table: dict[str, dict[str, float]] = {}
    for name, variants in study.items():
        if baseline not in reference.get(name, {}):
            continue
        base = reference[name][baseline]["final"]["accuracy"]
        for variant, result in variants.items():
            scores = {variant: result["final"]["accuracy"]}
            if result.get("soup"):
                scores[f"{variant} (soup)"] = result["soup"]["accuracy"]
            for label, accuracy in scores.items():
                if label != baseline or baseline_tag is not None:
                    table.setdefault(label, {})[name] = round(100 * (accuracy - base), 1)
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tag", required=True, help="the study's file suffix")
    parser.add_argument("--baseline", default="lr1e-4_bf16_mean_probe", help="the variant compared against")
    parser.add_argument("--baseline-tag", help="the baseline's file suffix, when another study ran it")
    args = parser.parse_args(argv)
    table = compare(args.tag, args.baseline, args.baseline_tag)
    if not table:
        raise SystemExit(f"no results in {Path(RESULTS)} for tag {args.tag!r} and baseline {args.baseline!r}")
    for variant, points in table.items():
        shown = ", ".join(f"{name} {value:+.1f}" for name, value in points.items())
        print(f"{variant}: {shown}; mean {sum(points.values()) / len(points):+.2f}")


if __name__ == "__main__":
    main()

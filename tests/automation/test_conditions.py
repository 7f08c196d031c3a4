"""new_data_automation requests the downstream chain for new data, and only for new data."""

from __future__ import annotations

import dagster as dg

from ft_assets.definitions import ALL_ASSETS, DATA_ASSETS
from tests.assets.conftest import make_rows, write_csv, write_jsonl
from tests.automation.conftest import DOWNSTREAM, evaluate, materialize


def settle(defs: dg.Definitions, instance: dg.DagsterInstance, tick: object) -> tuple[set[str], object]:
    """The tick that requests, then a quiet one: the daemon's ticks are 30 s apart, far from any rerun."""
    requested, tick = evaluate(defs, instance, tick)
    quiet, tick = evaluate(defs, instance, tick)
    assert quiet == set()
    return requested, tick


def test_a_new_batch_requests_exactly_the_downstream_chain_once(defs, instance, data_dir):
    requested, tick = evaluate(defs, instance)
    assert requested == set()
    assert materialize(defs, instance, ["raw_examples"]).success
    requested, tick = evaluate(defs, instance, tick)
    assert requested == DOWNSTREAM
    # Requested once: the next tick, with nothing new, does not ask again.
    requested, tick = evaluate(defs, instance, tick)
    assert requested == set()


def test_an_unchanged_batch_requests_nothing_but_a_changed_one_does(defs, instance, data_dir):
    _, tick = evaluate(defs, instance)
    materialize(defs, instance, ["raw_examples"])
    requested, tick = settle(defs, instance, tick)
    assert requested == DOWNSTREAM
    # raw_examples materialized again on the same files: same data version, nothing to do.
    assert materialize(defs, instance, ["raw_examples"]).success
    requested, tick = evaluate(defs, instance, tick)
    assert requested == set()
    write_csv(data_dir / "batch3.csv", make_rows(5, seed=3, prefix="new "))
    materialize(defs, instance, ["raw_examples"])
    requested, _ = evaluate(defs, instance, tick)
    assert requested == DOWNSTREAM


def test_a_scheduled_full_run_is_not_followed_by_an_automated_one(defs, instance, data_dir):
    """The retrain schedule rebuilds raw_examples and its descendants in one run; nothing is left to do."""
    data_defs = dg.Definitions(assets=DATA_ASSETS, resources=defs.resources)
    every_key = [key.to_user_string() for asset in DATA_ASSETS for key in asset.keys]
    _, tick = evaluate(data_defs, instance)
    for batch in (3, 4):  # the first build, then one that found a new batch
        write_csv(data_dir / f"batch{batch}.csv", make_rows(5, seed=batch, prefix=f"b{batch} "))
        assert materialize(data_defs, instance, every_key).success
        requested, tick = evaluate(data_defs, instance, tick)
        assert requested == set()


def test_plain_eager_would_retrain_on_an_unchanged_batch(defs, instance, data_dir):
    """Why the guard exists: the same sequence under eager() re-requests everything (dagster #25439)."""
    eager = [
        asset.map_asset_specs(
            lambda spec: spec.replace_attributes(
                automation_condition=dg.AutomationCondition.eager() if spec.deps else None
            )
        )
        for asset in ALL_ASSETS
    ]
    eager_defs = dg.Definitions(assets=eager, resources=defs.resources)
    _, tick = evaluate(eager_defs, instance)
    materialize(defs, instance, ["raw_examples"])
    requested, tick = settle(eager_defs, instance, tick)
    assert requested == DOWNSTREAM
    materialize(defs, instance, ["raw_examples"])
    requested, _ = evaluate(eager_defs, instance, tick)
    assert requested == DOWNSTREAM


def test_a_failing_blocking_check_stops_the_chain_before_training(defs, instance, data_dir):
    write_jsonl(data_dir / "junk.jsonl", [{"text": " ", "label": "billing"}] * 60)
    _, tick = evaluate(defs, instance)
    materialize(defs, instance, ["raw_examples"])
    requested, tick = settle(defs, instance, tick)
    assert requested == DOWNSTREAM

    # The run the daemon launches for those keys stops at the check: no split, no training, no model.
    run = materialize(defs, instance, requested)
    checks = {e.check_name: e for e in run.get_asset_check_evaluations()}
    assert not checks["quarantine_rate"].passed
    assert checks["quarantine_rate"].metadata["quarantined_fraction"].value > 0.2
    materialized = {e.asset_key.to_user_string() for e in run.get_asset_materialization_events()}
    assert materialized == {"validated_examples", "quarantined_examples"}
    for key in DOWNSTREAM - materialized:
        assert instance.get_latest_materialization_event(dg.AssetKey(key)) is None, key

    # Nor does a later tick retry it: validated_examples did change, but its blocking check failed.
    requested, tick = evaluate(defs, instance, tick)
    assert requested == set()
    splits = condition_values(tick, "dataset_splits")
    assert splits["any_deps_data_version_changed"] and not splits["all_deps_blocking_checks_passed"]

    # A fixed batch goes all the way down again.
    (data_dir / "junk.jsonl").unlink()
    materialize(defs, instance, ["raw_examples"])
    requested, _ = evaluate(defs, instance, tick)
    assert requested == DOWNSTREAM


def condition_values(result: object, key: str) -> dict[str, int]:
    """{label: number of partitions it was true for} over `key`'s condition tree on that tick."""
    values: dict[str, int] = {}

    def walk(node: object) -> None:
        values.setdefault(node.condition.get_label() or node.condition.name, node.true_subset.size)
        for child in node.child_results:
            walk(child)

    walk(next(r for r in result.results if r.key == dg.AssetKey(key)))
    return values

"""The automation condition of every derived asset: follow upstream only when its data really changed.

`AutomationCondition.eager()` fires on any upstream materialization, so re-materializing
`raw_examples` on unchanged files (a click, a retry, the weekly schedule) would retrain the whole
chain for nothing (dagster issues 25439 and 28063). Swapping eager's `newly_updated` trigger for
`data_version_changed` closes that hole: `raw_examples` reports a content hash as its data version
and every downstream data version is derived from it, so an unchanged batch keeps every version as
it was and nothing is requested.
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

AC = dg.AutomationCondition


def _any_dep_data_changed() -> dg.AutomationCondition:
    return AC.any_deps_match(
        # A run that already rebuilt this asset together with its parent (the weekly schedule, a
        # manual "materialize all") must not make it run a second time.
        (AC.data_version_changed() & ~AC.executed_with_root_target()).with_label(
            "data_version_changed_without_root"
        )
        # Lets one tick request the whole chain as a single run, in dependency order.
        | AC.will_be_requested()
    ).with_label("any_deps_data_version_changed")


def on_new_upstream_data() -> dg.AutomationCondition:
    """eager() triggered by upstream data-version changes, held back by failed blocking checks."""
    return (
        AC.eager().replace("any_deps_updated", _any_dep_data_changed()) & AC.all_deps_blocking_checks_passed()
    ).with_label("on_new_upstream_data")


def with_automation(
    assets: Iterable[dg.AssetsDefinition], condition: dg.AutomationCondition | None = None
) -> list[dg.AssetsDefinition]:
    """Give every asset that has upstream assets `condition` (default: on_new_upstream_data()).

    Root assets are left alone: they read the outside world, which only a sensor can watch.
    """
    chosen = condition or on_new_upstream_data()

    def apply(spec: dg.AssetSpec) -> dg.AssetSpec:
        return spec.replace_attributes(automation_condition=chosen) if spec.deps else spec

    return [asset.map_asset_specs(apply) for asset in assets]

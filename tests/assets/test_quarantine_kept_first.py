"""A run killed between validation's two outputs must not lose the rows it rejected."""

from pathlib import Path
from typing import Any, ClassVar

import dagster as dg
import pandas as pd

from ft_assets.assets.raw import raw_examples
from ft_assets.assets.validated import validate_raw_examples
from ft_resources.artifact_store import ArtifactStore
from ft_resources.io_manager import ArtifactIOManager
from tests.assets.conftest import data_run_config


class KilledAfterOneOutputError(Exception):
    """Stands for the process dying once validation's first output is stored."""


class DiesAfterFirstValidationOutput(ArtifactIOManager):
    stored: ClassVar[list[str]] = []

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        name = context.asset_key.to_user_string()
        if name in {"validated_examples", "quarantined_examples"}:
            if self.stored:
                raise KilledAfterOneOutputError(name)
            self.stored.append(name)
        super().handle_output(context, obj)


def test_the_rejected_rows_of_a_run_killed_between_its_two_outputs_are_kept(
    instance: dg.DagsterInstance, tmp_path: Path, data_dir: Path
) -> None:
    store = ArtifactStore(root=str(tmp_path / "artifacts"))
    assets = [raw_examples, validate_raw_examples]
    config = data_run_config(data_dir)
    resources = {"io_manager": ArtifactIOManager(store=store), "artifact_store": store}
    assert dg.materialize(assets, instance=instance, resources=resources, run_config=config).success

    (data_dir / "batch3.csv").write_text('text,label\n"",billing\n"a text with no label",\n')
    DiesAfterFirstValidationOutput.stored.clear()
    killing = {**resources, "io_manager": DiesAfterFirstValidationOutput(store=store)}
    result = dg.materialize(
        assets, instance=instance, resources=killing, run_config=config, raise_on_error=False
    )
    assert not result.success and len(DiesAfterFirstValidationOutput.stored) == 1

    event = instance.get_latest_materialization_event(dg.AssetKey("quarantined_examples"))
    assert event is not None and event.run_id == result.run_id
    quarantined = pd.read_parquet(store.local_path(event.asset_materialization.metadata["path"].value))
    assert sorted(quarantined.loc[quarantined["source_file"] == "batch3.csv", "source_line"]) == [2, 3]

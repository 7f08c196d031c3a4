"""raw_examples' data version covers what decides the rows read: the files, the read options and the reader.

Re-reading the same files with another column mapping, encoding or TSV quoting yields other rows, so it must
give another data version (else the automation requests nothing downstream and the UI shows the old chain
as fresh); the same files and options must give the same version, in any process; and a reader fix
(READER_VERSION) must make new_data_sensor read the folder again.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from ft_assets.assets.raw import raw_examples
from ft_assets.automation import new_data_sensor
from ft_assets.ingest import discovery
from ft_assets.ingest.discovery import folder_version, scan
from ft_assets.ingest.readers import ReadOptions
from ft_resources.settings import DATA_DIR_ENV
from tests.automation import conftest as automation_conftest
from tests.automation.conftest import DOWNSTREAM, evaluate
from tests.automation.conftest import materialize as materialize_keys

# The automation tests' definitions (assets, sensors, schedules on this test's folders), a fixture here too.
defs = automation_conftest.defs

RAW = dg.AssetKey("raw_examples")
LABELS = ("billing", "shipping", "technical")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """FT_DATA_DIR holding files that every option below reads successfully, into different rows."""
    folder = tmp_path / "raw"
    folder.mkdir()
    csv_lines = ["text,label,fine_label,alt_text"]
    tsv_lines = ["text\tlabel\tfine_label\talt_text"]
    for i in range(30):
        label = LABELS[i % 3]
        csv_lines.append(f"message {i} about {label},{label},{label}/{i % 2},alt {i}")
        # A quote: with tsv_quoting it is CSV quoting, without it is text.
        tsv_lines.append(f'"quoted {i}" for {label}\t{label}\t{label}/{i % 2}\talt tsv {i}')
    (folder / "batch1.csv").write_text("\n".join(csv_lines) + "\n")
    (folder / "batch2.tsv").write_text("\n".join(tsv_lines) + "\n")
    monkeypatch.setenv(DATA_DIR_ENV, str(folder))
    return folder


def materialize_raw(
    instance: dg.DagsterInstance, data_dir: Path, **config: object
) -> dg.ExecuteInProcessResult:
    run_config = {"ops": {"raw_examples": {"config": {"data_dir": str(data_dir), **config}}}}
    result = dg.materialize([raw_examples], instance=instance, run_config=run_config)
    assert result.success
    return result


def version_of(result: dg.ExecuteInProcessResult) -> str:
    [event] = result.get_asset_materialization_events()
    return event.materialization.tags["dagster/data_version"]


def test_the_same_files_and_options_give_the_same_version(instance, data_dir):
    first = version_of(materialize_raw(instance, data_dir))
    assert version_of(materialize_raw(instance, data_dir)) == first
    # What the sensor computes for the folder with the same options is what the asset recorded.
    assert folder_version(scan(data_dir), ReadOptions()) == first
    assert folder_version(scan(data_dir)) == first  # the default options are ReadOptions()

    fine = version_of(materialize_raw(instance, data_dir, label_column="fine_label"))
    assert version_of(materialize_raw(instance, data_dir, label_column="fine_label")) == fine
    assert folder_version(scan(data_dir), ReadOptions(label="fine_label")) == fine


@pytest.mark.parametrize(
    "option",
    [
        {"label_column": "fine_label"},
        {"text_column": "alt_text"},
        {"encoding": "cp1252"},
        {"tsv_quoting": True},
    ],
    ids=lambda option: next(iter(option)),
)
def test_each_read_option_gives_another_version(instance, data_dir, option):
    default = materialize_raw(instance, data_dir)
    changed = materialize_raw(instance, data_dir, **option)
    assert version_of(changed) != version_of(default)
    # The files themselves did not change, only how they were read, and the metadata says which.
    default_metadata, changed_metadata = (
        r.asset_materializations_for_node("raw_examples")[0].metadata for r in (default, changed)
    )
    assert changed_metadata["files_version"].value == default_metadata["files_version"].value
    assert changed_metadata["read_options"].value.items() >= option.items()
    assert changed_metadata["data_version"].value == version_of(changed)


def test_the_rows_really_differ_between_label_columns(instance, data_dir):
    """Why the options belong in the version: the same bytes give other labels."""
    default = materialize_raw(instance, data_dir).output_for_node("raw_examples")
    fine = materialize_raw(instance, data_dir, label_column="fine_label").output_for_node("raw_examples")
    assert set(default["label"]) == set(LABELS)
    assert set(fine["label"]) == {f"{label}/{bit}" for label in LABELS for bit in (0, 1)}


def test_the_version_is_the_same_in_other_processes(data_dir):
    """No hash() and no dict order: a fresh interpreter with another hash seed computes the same version."""
    options = ReadOptions(label="fine_label", encoding="cp1252", tsv_quoting=True)
    here = folder_version(scan(data_dir), options)
    code = (
        "import sys; from pathlib import Path\n"
        "from ft_assets.ingest.discovery import folder_version, scan\n"
        "from ft_assets.ingest.readers import ReadOptions\n"
        "print(folder_version(scan(Path(sys.argv[1])), "
        "ReadOptions(label='fine_label', encoding='cp1252', tsv_quoting=True)))\n"
    )
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        out = subprocess.run(
            [sys.executable, "-c", code, str(data_dir)], env=env, cwd=ROOT, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == here


def test_a_reader_version_bump_gives_another_version(instance, data_dir, monkeypatch):
    before = version_of(materialize_raw(instance, data_dir))
    monkeypatch.setattr(discovery, "READER_VERSION", discovery.READER_VERSION + "-next")
    after = version_of(materialize_raw(instance, data_dir))
    assert after != before
    assert folder_version(scan(data_dir)) == after


# new_data_sensor and new_data_automation against the same instance.


def tick(defs: dg.Definitions, instance: dg.DagsterInstance) -> dg.SensorResult:
    return new_data_sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs))


def test_the_sensor_skips_an_unchanged_folder_read_with_default_options(defs, instance, data_dir):
    [request] = tick(defs, instance).run_requests
    assert materialize_keys(defs, instance, ["raw_examples"], request.run_config).success
    unchanged = tick(defs, instance)
    assert unchanged.run_requests == []
    assert f"data version {request.tags['ft/data_version']} is already materialized" in unchanged.skip_message


def test_the_sensor_keeps_the_options_of_the_latest_materialization(defs, instance, data_dir):
    """A manual re-read with label_column=fine_label is not undone by the sensor, and new files are read
    with the same mapping."""
    options = {"label_column": "fine_label", "encoding": "cp1252"}
    fine = version_of(materialize_raw(instance, data_dir, **options))
    unchanged = tick(defs, instance)
    assert unchanged.run_requests == []
    assert fine in unchanged.skip_message

    (data_dir / "batch3.csv").write_text("text,label,fine_label,alt_text\nnew one,billing,billing/1,x\n")
    [request] = tick(defs, instance).run_requests
    assert request.run_config["ops"]["raw_examples"]["config"].items() >= options.items()
    expected = folder_version(scan(data_dir), ReadOptions(label="fine_label", encoding="cp1252"))
    assert request.tags["ft/data_version"] == expected != fine
    assert materialize_keys(defs, instance, ["raw_examples"], request.run_config).success
    assert tick(defs, instance).run_requests == []


def test_the_sensor_rereads_after_a_reader_version_bump(defs, instance, data_dir, monkeypatch):
    [request] = tick(defs, instance).run_requests
    assert materialize_keys(defs, instance, ["raw_examples"], request.run_config).success
    assert tick(defs, instance).run_requests == []
    monkeypatch.setattr(discovery, "READER_VERSION", discovery.READER_VERSION + "-next")
    [reread] = tick(defs, instance).run_requests
    assert reread.tags["ft/data_version"] != request.tags["ft/data_version"]
    assert reread.run_key != request.run_key


def test_rereading_with_another_label_column_requests_the_downstream_chain(defs, instance, data_dir):
    _, automation = evaluate(defs, instance)
    materialize_raw(instance, data_dir)
    requested, automation = evaluate(defs, instance, automation)
    assert requested == DOWNSTREAM
    assert evaluate(defs, instance, automation)[0] == set()
    # Same options again: nothing to do.
    materialize_raw(instance, data_dir)
    requested, automation = evaluate(defs, instance, automation)
    assert requested == set()
    # Same files, another label column: new data for everything downstream.
    materialize_raw(instance, data_dir, label_column="fine_label")
    requested, _ = evaluate(defs, instance, automation)
    assert requested == DOWNSTREAM

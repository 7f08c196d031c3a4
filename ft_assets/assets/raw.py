"""raw_examples: every labeled row from every batch file, with its origin and a data version."""

from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import Field

from ft_assets.assets.metadata import counts_md
from ft_assets.ingest.discovery import data_version, list_data_files
from ft_assets.ingest.readers import COLUMNS, ColumnMapping, IngestError, read_file
from ft_resources import settings


class RawDataConfig(dg.Config):
    data_dir: str = Field(
        default="",
        description="Folder of .csv/.tsv/.jsonl/.parquet batches; empty: $FT_DATA_DIR, else data/raw.",
    )
    text_column: str = Field(default="text", description="Column (or JSON field) holding the text.")
    label_column: str = Field(default="label", description="Column (or JSON field) holding the label.")


def load_raw_frame(config: RawDataConfig) -> tuple[pd.DataFrame, str, dict[str, int]]:
    root = Path(config.data_dir or settings.data_dir())
    files = list_data_files(root)
    mapping = ColumnMapping(text=config.text_column, label=config.label_column)
    frames, per_file = [], {}
    for path in files:
        source = path.relative_to(root).as_posix()
        frame = read_file(path, source, mapping)
        per_file[source] = len(frame)
        frames.append(frame)
    combined = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    return combined, data_version(root, files), per_file


@dg.asset(
    group_name="data",
    kinds={"pandas", "parquet"},
    code_version="1",
    description=(
        "Every row of every batch file under FT_DATA_DIR (.csv, .tsv, .jsonl, .parquet) as text + label, "
        "each with its source file and line. Unparseable records are kept with an ingest_error so "
        "validation can quarantine them. The data version is a hash of the files' names and bytes."
    ),
)
def raw_examples(context: dg.AssetExecutionContext, config: RawDataConfig) -> dg.Output[pd.DataFrame]:
    try:
        frame, version, per_file = load_raw_frame(config)
    except IngestError as exc:
        raise dg.Failure(description=str(exc)) from exc
    errors = int(frame["ingest_error"].notna().sum())
    context.log.info(f"read {len(frame):,} rows from {len(per_file)} file(s); data version {version}")
    return dg.Output(
        frame,
        data_version=dg.DataVersion(version),
        metadata={
            "row_count": dg.MetadataValue.int(len(frame)),
            "files": dg.MetadataValue.int(len(per_file)),
            "rows_per_file": counts_md(per_file, key="file"),
            "unparseable_rows": dg.MetadataValue.int(errors),
            "data_version": dg.MetadataValue.text(version),
            "data_dir": dg.MetadataValue.path(str(Path(config.data_dir or settings.data_dir()).absolute())),
        },
    )

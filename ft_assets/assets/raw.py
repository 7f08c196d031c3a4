"""raw_examples: every record of every batch file, with its origin, and a data version."""

from dataclasses import asdict
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from ft_assets.assets.metadata import md_table
from ft_assets.ingest.batch import read_folder
from ft_assets.ingest.discovery import READER_VERSION, IngestError, read_version
from ft_assets.ingest.readers import ReadOptions
from ft_resources import settings


class RawDataConfig(dg.Config):
    data_dir: str = Field(
        default="",
        description="Folder of .csv/.tsv/.jsonl/.parquet batches; empty: $FT_DATA_DIR, else data/raw.",
    )
    text_column: str = Field(default="text", description="Column (or JSON field) holding the text.")
    label_column: str = Field(default="label", description="Column (or JSON field) holding the label.")
    encoding: str = Field(
        default="utf-8", description="Text encoding of .csv/.tsv/.jsonl files (e.g. cp1252)."
    )
    tsv_quoting: bool = Field(
        default=False, description="Read .tsv with CSV quoting (quoted fields holding tabs or newlines)."
    )


def read_options(config: RawDataConfig) -> ReadOptions:
    return ReadOptions(config.text_column, config.label_column, config.encoding, config.tsv_quoting)


def read_settings(config: RawDataConfig) -> dict[str, Any]:
    """The config that decides how the files are read (all of it but where they are): recorded with each
    materialization as `read_options`, so new_data_sensor hashes and re-reads the folder the same way."""
    return config.model_dump(exclude={"data_dir"})


@dg.asset(
    group_name="data",
    kinds={"pandas", "parquet"},
    code_version="3",  # 3: the data version covers the read options and READER_VERSION, not only the files
    description=(
        "Every record of every batch file under FT_DATA_DIR (.csv, .tsv, .jsonl, .parquet) as text + label, "
        "each with its source file and line; unparseable records are kept with an ingest_error so "
        "validation quarantines them. The data version is a hash of the bytes parsed, the read options "
        "(column mapping, encoding, TSV quoting) and the reader's version."
    ),
)
def raw_examples(context: dg.AssetExecutionContext, config: RawDataConfig) -> dg.Output[pd.DataFrame]:
    root = Path(config.data_dir or settings.data_dir())
    options = read_options(config)
    try:
        batch = read_folder(root, options)
    except IngestError as exc:
        raise dg.Failure(description=str(exc)) from exc
    # The same files read another way (or by a fixed reader) are other rows: new data downstream.
    version = read_version(batch.version, options)
    for skipped in batch.skipped:
        context.log.warning(str(skipped))
    for report in batch.files:
        if report.note:
            context.log.warning(f"{report.name}: {report.note}")
    frame = batch.frame
    errors = int(frame["ingest_error"].notna().sum())
    context.log.info(
        f"read {len(frame):,} records from {len(batch.files)} file(s) ({errors:,} unreadable, "
        f"{len(batch.skipped)} file(s) skipped); data version {version}"
    )
    files = [asdict(report) for report in batch.files]
    return dg.Output(
        frame,
        data_version=dg.DataVersion(version),
        metadata={
            "row_count": dg.MetadataValue.int(len(frame)),
            "files": md_table(files, ["name", "lines", "records", "blank", "joined", "unreadable", "note"]),
            "rows_per_file": dg.MetadataValue.json({r.name: r.records for r in batch.files}),
            "skipped_files": md_table([asdict(s) for s in batch.skipped], ["name", "reason"]),
            "unparseable_rows": dg.MetadataValue.int(errors),
            "data_version": dg.MetadataValue.text(version),
            "files_version": dg.MetadataValue.text(batch.version),
            "read_options": dg.MetadataValue.json(read_settings(config)),
            "reader_version": dg.MetadataValue.text(READER_VERSION),
            "data_dir": dg.MetadataValue.path(str(root.absolute())),
        },
    )

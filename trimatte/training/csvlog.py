"""The run folder's CSV logs (``log.csv``, ``val.csv``): read, append, rewrite atomically."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from trimatte.io import atomic_write_bytes

__all__ = ["LOG_COLUMNS", "append_row", "read_rows", "rewrite_rows"]

#: Columns of ``log.csv``.
LOG_COLUMNS = ("step", "epoch", "lr", "loss", "loss_alpha", "loss_composition", "seconds")


def read_rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def rewrite_rows(path: Path, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(path, buffer.getvalue().encode())


def append_row(path: Path, columns: tuple[str, ...], row: dict[str, Any]) -> None:
    new = not path.is_file()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow(row)

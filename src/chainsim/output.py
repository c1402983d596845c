"""Writing results: atomically (temporary file, then rename), never half-written."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


@contextmanager
def atomic_path(path: Path):
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results are ordinary files
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, doc: dict) -> None:
    """Write a JSON document atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    """Write a CSV table atomically."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def write_figure(path: Path, save: Callable[[Path], None]) -> None:
    """Write a figure atomically (``save`` writes to the path it is given)."""
    with atomic_path(path) as tmp:
        save(tmp)


class ParquetStream:
    """Stream tables into one Parquet file, one row group per ``write``, renamed on close.

    Args:
        path: The final file.
        metadata: Key-value provenance stored in the file's schema metadata.
    """

    def __init__(self, path: Path, metadata: dict[str, str]):
        self.path = path
        self.metadata = {k.encode(): v.encode() for k, v in metadata.items()}
        self._ctx = atomic_path(path)
        self._tmp = self._ctx.__enter__()
        self._writer: pq.ParquetWriter | None = None

    def write(self, frame: pd.DataFrame) -> None:
        """Append a table (all tables must share one schema)."""
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._writer is None:
            schema = table.schema.with_metadata({**(table.schema.metadata or {}),
                                                 **self.metadata})
            self._writer = pq.ParquetWriter(self._tmp, schema, compression="zstd")
        self._writer.write_table(table.replace_schema_metadata(self._writer.schema.metadata))

    def close(self, ok: bool = True) -> None:
        """Finish the file (``ok``) or discard it."""
        if self._writer is not None:
            self._writer.close()
        if ok:
            self._ctx.__exit__(None, None, None)
        else:
            self._ctx.__exit__(RuntimeError, RuntimeError("aborted"), None)

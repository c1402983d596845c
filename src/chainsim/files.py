"""Writing results: atomically (temporary file, then rename), never half-written.

Every file is first written to a temporary name beside it,
``.NAME.PID.RANDOM.tmp`` (dot-prefixed, with the writing process's id), and
renamed onto ``NAME`` only when complete, so a file is either the old complete
one, the new complete one, or absent. :class:`OutputSet` goes one step further
for the files of one command: they are all written to temporary names first and
renamed together at the end, so a run killed part-way leaves the previous run's
files as they were (only the temporaries of the killed process remain, and the
next command writing to that directory removes them).

A directory that cannot be written (missing permission, read-only file system,
a path through a regular file) or a full disk is reported as an
:class:`~chainsim.chain.errors.InputError` naming the path and the reason (exit code 2),
never as a traceback.
"""

from __future__ import annotations

import errno
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from chainsim.chain.errors import InputError

_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM,
                 errno.ENOTDIR, errno.EISDIR, errno.ENOENT, errno.EFBIG, errno.ENAMETOOLONG,
                 errno.EEXIST, errno.ELOOP}
"""OS errors that mean "this place cannot take the output" rather than a bug."""

_TEMP_RE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp$")


def output_error(path: Path, exc: OSError) -> InputError:
    """An :class:`InputError` for an output that could not be written."""
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        allowed = "a disk with enough free space; no earlier result was changed"
    elif exc.errno == errno.ENOTDIR:
        allowed = "a directory path (part of this path is a file)"
    elif exc.errno == errno.EEXIST:
        allowed = "a directory (a file of this name exists)"
    else:
        allowed = "a directory you can create and write to"
    return InputError.single(str(path), "(output)", reason, allowed)


def is_write_error(exc: BaseException) -> bool:
    """Whether ``exc`` means the output's place cannot be written (see :func:`output_error`)."""
    return isinstance(exc, OSError) and exc.errno in _WRITE_ERRNOS


def _make_dirs(directory: Path) -> list[Path]:
    """Create ``directory`` and missing parents; return the ones created (deepest last)."""
    missing = []
    d = directory
    while not d.exists() and d != d.parent:
        missing.append(d)
        d = d.parent
    if d.exists() and not d.is_dir() and d != directory:
        raise output_error(directory, OSError(errno.ENOTDIR, f"{d} is a file"))
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(directory, exc) from None
    if not directory.is_dir():
        raise output_error(directory, OSError(errno.EEXIST, f"{directory} is a file"))
    return missing[::-1]


def _remove_created(created: list[Path]) -> None:
    """Remove directories :func:`_make_dirs` created, if they are (still) empty."""
    for d in reversed(created):
        try:
            d.rmdir()
        except OSError:
            return


def check_output_dir(directory: Path) -> None:
    """Fail early (before hours of work) if ``directory`` cannot take the output.

    Creates the directory if needed, writes and removes a probe file, and removes
    the directories it created, so nothing is left behind.

    Raises:
        InputError: Naming the path and why it cannot be written.
    """
    directory = Path(directory)
    created = _make_dirs(directory)
    try:
        fd, probe = tempfile.mkstemp(prefix=f".probe.{os.getpid()}.", suffix=".tmp",
                                     dir=directory)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise output_error(directory, exc) from None
    finally:
        _remove_created(created)


def remove_stale_temporaries(directory: Path) -> list[Path]:
    """Delete temporaries left in ``directory`` by writers that no longer run.

    Only files named like this module's temporaries (``.NAME.PID.RANDOM.tmp``)
    whose process ``PID`` is gone are removed (e.g. after a run was killed);
    a live writer's temporaries are left alone.

    Returns:
        The files removed.
    """
    removed = []
    try:
        entries = list(Path(directory).iterdir())
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP_RE.match(entry.name)
        if m is None or _alive(int(m.group("pid"))):
            continue
        try:
            entry.unlink()
            removed.append(entry)
        except OSError:
            pass
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


def _temp_beside(path: Path) -> Path:
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                                   dir=path.parent)
    except OSError as exc:
        raise output_error(path, exc) from None
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results are ordinary files
    return Path(tmp)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    On any error the temporary is removed; an error writing (full disk, no
    permission) becomes an :class:`InputError` naming ``path``.
    """
    path = Path(path)
    _make_dirs(path.parent)
    tmp = _temp_beside(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if is_write_error(exc):
            raise output_error(path, exc) from None
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
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


def safe_child(directory: Path, name: str) -> Path:
    """``directory / name`` for a file name that cannot leave ``directory``.

    Raises:
        InputError: If ``name`` is empty, ``.``/``..``, contains a path separator
            or NUL, or starts with a dot (temporaries and hidden files).
    """
    if (not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name
            or name.startswith(".") or len(name.encode()) > 255):
        raise InputError.single(str(directory), "(output file name)", name,
                                "a plain file name inside the output directory (no '/', "
                                "'..', leading '.', at most 255 bytes)")
    return Path(directory) / name


class OutputSet:
    """The files of one command, written to temporaries and renamed together at the end.

    Use as a context manager: files are added with :meth:`csv`, :meth:`json`,
    :meth:`figure`, :meth:`temporary` or :meth:`parquet`; leaving the block without
    an error renames every temporary onto its file (in the order added, so put
    the file readers look at first, e.g. ``summary.json``, last); an error removes
    the temporaries, and the directory if this set created it and it is empty.
    On entry, temporaries of earlier writers that were killed are removed.

    Args:
        directory: The output directory (created if needed).
    """

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._files: list[tuple[Path, Path]] = []
        self._streams: list[ParquetStream] = []
        self._created: list[Path] = []

    def __enter__(self) -> OutputSet:
        self._created = _make_dirs(self.directory)
        remove_stale_temporaries(self.directory)
        return self

    def temporary(self, name: str) -> Path:
        """A temporary path that becomes ``directory/name`` when the set is committed."""
        final = safe_child(self.directory, name)
        tmp = _temp_beside(final)
        self._files.append((tmp, final))
        return tmp

    def _write(self, name: str, write: Callable[[Path], None]) -> None:
        tmp = self.temporary(name)
        try:
            write(tmp)
        except OSError as exc:
            if is_write_error(exc):
                raise output_error(self.directory / name, exc) from None
            raise

    def csv(self, name: str, frame: pd.DataFrame) -> None:
        """Add a CSV table."""
        self._write(name, lambda tmp: frame.to_csv(tmp, index=False))

    def json(self, name: str, doc: object) -> None:
        """Add a JSON document."""
        text = json.dumps(doc, indent=2, allow_nan=False) + "\n"
        self._write(name, lambda tmp: tmp.write_text(text, encoding="utf-8"))

    def text(self, name: str, text: str) -> None:
        """Add a text file (UTF-8)."""
        self._write(name, lambda tmp: tmp.write_text(text, encoding="utf-8"))

    def figure(self, name: str, save: Callable[[Path], None]) -> None:
        """Add a figure (``save`` writes to the path it is given)."""
        self._write(name, save)

    def parquet(self, name: str, metadata: dict[str, str]) -> ParquetStream:
        """A Parquet stream whose file is committed with the set."""
        stream = ParquetStream(self.directory / name, metadata, tmp=self.temporary(name))
        self._streams.append(stream)
        return stream

    def __exit__(self, kind, exc, tb) -> bool:
        if kind is None:
            try:
                for stream in self._streams:
                    stream.finish()
                for tmp, final in self._files:
                    os.replace(tmp, final)
            except OSError as err:
                self._discard()
                if is_write_error(err):
                    raise output_error(self.directory, err) from None
                raise
            return False
        self._discard()
        if isinstance(exc, OSError) and is_write_error(exc):
            raise output_error(self.directory, exc) from None
        return False

    def _discard(self) -> None:
        for stream in self._streams:
            stream.abandon()
        for tmp, _ in self._files:
            tmp.unlink(missing_ok=True)
        _remove_created(self._created)


class ParquetStream:
    """Stream tables into one Parquet file, one row group per ``write``, renamed on close.

    Args:
        path: The final file.
        metadata: Key-value provenance stored in the file's schema metadata.
        tmp: Write to this temporary and leave renaming it to the caller (an
            :class:`OutputSet`); default: a temporary of its own, renamed by
            :meth:`close`.
    """

    def __init__(self, path: Path, metadata: dict[str, str], tmp: Path | None = None):
        self.path = Path(path)
        self.metadata = {k.encode(): v.encode() for k, v in metadata.items()}
        if tmp is None:
            self._ctx = atomic_path(self.path)
            self._tmp = self._ctx.__enter__()
        else:
            self._ctx = None
            self._tmp = tmp
        self._writer: pq.ParquetWriter | None = None

    def write(self, frame: pd.DataFrame) -> None:
        """Append a table (all tables must share one schema)."""
        table = pa.Table.from_pandas(frame, preserve_index=False)
        try:
            if self._writer is None:
                schema = table.schema.with_metadata({**(table.schema.metadata or {}),
                                                     **self.metadata})
                self._writer = pq.ParquetWriter(self._tmp, schema, compression="zstd")
            self._writer.write_table(table.replace_schema_metadata(self._writer.schema.metadata))
        except OSError as exc:
            if is_write_error(exc):
                raise output_error(self.path, exc) from None
            raise

    def finish(self) -> None:
        """Complete the temporary file (without renaming it)."""
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.close()

    def abandon(self) -> None:
        """Drop the file (the temporary is removed by whoever owns it)."""
        if self._writer is not None:
            writer, self._writer = self._writer, None
            try:
                writer.close()
            except Exception:  # the file is discarded anyway
                pass

    def close(self, ok: bool = True) -> None:
        """Finish the file (``ok``) or discard it."""
        if ok:
            self.finish()
        else:
            self.abandon()
        if self._ctx is None:
            return
        if ok:
            self._ctx.__exit__(None, None, None)
        else:
            self._ctx.__exit__(RuntimeError, RuntimeError("aborted"), None)

"""Reading a user's TOML file with errors that name the file and what went wrong."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

from chainsim.chain.errors import InputError

MAX_BYTES = 16 * 1024 * 1024
"""Largest input file read (16 MiB; a scenario is a few kB)."""


def read_toml(path: str | Path, file: str | None = None) -> dict:
    """Parse a UTF-8 TOML file (a leading byte-order mark is allowed).

    Only regular files are read (not directories, devices or pipes), at most
    :data:`MAX_BYTES`. Nothing in the file is executed: it is parsed as data.

    Args:
        path: The file.
        file: How to name it in messages (default: ``path`` as given).

    Raises:
        InputError: Missing, not a regular file, too large, unreadable, not UTF-8,
            not TOML, or nested too deeply.
    """
    file = str(path) if file is None else file
    if "\x00" in str(path):
        raise InputError.single(file, "(file)", str(path),
                                "a file name without NUL characters")
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError.single(file, "(file)", str(path), "no such file") from None
    except OSError as exc:
        raise InputError.single(file, "(file)", str(path),
                                f"cannot read: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError.single(file, "(file)", str(path), "a file, not a directory")
    if not stat.S_ISREG(info.st_mode):
        raise InputError.single(file, "(file)", str(path),
                                "a regular file (not a device, pipe or socket)")
    if info.st_size > MAX_BYTES:
        raise InputError.single(file, "(file)", f"{info.st_size} bytes",
                                f"a TOML file of at most {MAX_BYTES // 2**20} MiB")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InputError.single(file, "(file)", str(path),
                                f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError.single(file, "(file)", f"byte {exc.start}",
                                f"a UTF-8 text file (byte {exc.start} is "
                                f"0x{raw[exc.start]:02x}; save the file as UTF-8)") from None
    text = text.removeprefix("\ufeff")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError.single(file, "(syntax)", str(exc), "valid TOML") from None
    except RecursionError:
        raise InputError.single(file, "(syntax)", "arrays or tables nested too deeply",
                                "valid TOML nested at most a few levels deep") from None
    except ValueError as exc:  # e.g. an integer literal of more than 4300 digits
        raise InputError.single(file, "(syntax)", str(exc).split(";")[0],
                                "valid TOML with numbers of ordinary size") from None


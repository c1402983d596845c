"""Reading a user's TOML file with errors that name the file and what went wrong."""

from __future__ import annotations

import tomllib
from pathlib import Path

from chainsim.errors import InputError


def read_toml(path: str | Path, file: str | None = None) -> dict:
    """Parse a UTF-8 TOML file.

    Args:
        path: The file.
        file: How to name it in messages (default: ``path`` as given).

    Raises:
        InputError: Missing, a directory, unreadable, not UTF-8, or not TOML.
    """
    file = str(path) if file is None else file
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError.single(file, "(file)", str(path), "no such file") from None
    except IsADirectoryError:
        raise InputError.single(file, "(file)", str(path), "a file, not a directory") from None
    except OSError as exc:
        raise InputError.single(file, "(file)", str(path), f"cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError.single(file, "(file)", f"byte {exc.start}", "a UTF-8 text file") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError.single(file, "(syntax)", str(exc), "valid TOML") from None

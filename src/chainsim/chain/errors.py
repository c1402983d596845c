"""Errors that mean the user gave bad input (exit code 2, no traceback).

Every loader turns what is wrong with a file into :class:`Problem` s that name the
file, the field, the offending value and what would have been accepted;
:func:`problems_from_validation` does this for pydantic's validation errors, and
:func:`chainsim.chain.schema.validate` applies it to the strict models of every loader
(scenario, calibration overlay, targets, unit costs, sweep designs), so they all
speak the same way.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from pydantic import ValidationError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input.

    Attributes:
        file: The file (or command-line option) the bad value came from.
        field: Path of the field, dotted with list indices in brackets, e.g.
            ``parameters.signal_hazard.value`` or ``interventions[0].operation``
            (:func:`field_path`).
        value: The offending value, as given.
        allowed: What would have been accepted.
    """

    file: str
    field: str
    value: object
    allowed: str

    def __str__(self) -> str:
        value = _short_repr(self.value)
        if len(value) > 80:
            value = value[:77] + "..."
        return f"{_printable(self.file)}: {_printable(self.field)} = {value}: {self.allowed}"


def _printable(text: str) -> str:
    """``text`` with control characters escaped (one problem, one line)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)


def _short_repr(value: object) -> str:
    """``repr`` that never fails (deeply nested or enormous values)."""
    try:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**60:
            return (f"{float(value):.6g}" if abs(value) < 10**308
                    else "an integer of more than 300 digits")
        return repr(value)
    except (RecursionError, ValueError):
        return f"<{type(value).__name__}>"


def field_path(loc: Iterable[object]) -> str:
    """A location as the one notation every problem uses: ``interventions[0].operation``.

    Table keys are joined with dots, list indices are put in brackets, and
    pydantic's ``[key]`` marker (a problem with a table's key itself) is dropped.
    """
    out = ""
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """`` did you mean 'x'?`` for a misspelt ``word`` among ``choices`` (or ``""``).

    Args:
        word: What was given.
        choices: The names allowed there.

    Returns:
        A suffix for a problem's ``allowed`` text, with a leading ``;``: the closest
        name (:func:`difflib.get_close_matches`; up to three if they are about as
        close), or ``""`` if none is close or ``word`` is not a string.
    """
    if not isinstance(word, str):
        return ""
    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.6)
    if close:  # the best, and others only if nearly as close

        def ratio(c: str) -> float:
            return difflib.SequenceMatcher(None, word, c).ratio()

        best = ratio(close[0])
        close = [c for c in close if ratio(c) >= best - 0.05]
    else:
        close = [c for c in choices if word.lower() == c.lower()]
    if not close:
        return ""
    return "; did you mean " + " or ".join(repr(c) for c in close) + "?"


class InputError(Exception):
    """Bad user input: one or more :class:`Problem` s.

    The CLI prints every problem on its own line and exits with code 2.
    """

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    @classmethod
    def single(cls, file: str, field: str, value: object, allowed: str) -> InputError:
        """An error with one problem."""
        return cls([Problem(file, field, value, allowed)])


class FieldValueError(ValueError):
    """A model validator's complaint about one field of the entry it checks.

    Raise it from a pydantic ``model_validator`` instead of a plain ``ValueError``
    to have :func:`problems_from_validation` name ``field`` (relative to the entry)
    and ``value`` rather than the whole entry.

    Args:
        message: What is allowed.
        field: The key inside the validated entry (``None``: the entry itself).
        value: The offending value.
    """

    def __init__(self, message: str, field: str | None = None, value: object = None):
        super().__init__(message)
        self.field = field
        self.value = value


_TYPE_WORDS = {
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number (no decimals)",
    "finite_number": "a finite number (not nan or inf)",
    "string_type": "a text string in quotes",
    "bool_type": "true or false",
    "dict_type": "a table (key = value pairs)",
    "model_type": "a table (key = value pairs)",
    "model_attributes_type": "a table (key = value pairs)",
    "list_type": "a list [...]",
    "missing": "required: add this key",
    "too_short": "at least one entry",
    "recursion_loop": "a plain value (the structure is nested too deeply)",
}


def _display(value: object) -> object:
    """A value as a message shows it (non-finite floats as text)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def problems_from_validation(
    exc: ValidationError, file: str, prefix: str = "",
    unknown_key: Callable[[tuple], list[str] | None] | None = None,
) -> list[Problem]:
    """Pydantic's validation errors as :class:`Problem` s.

    Args:
        exc: The validation error.
        file: The file name to report.
        prefix: Prepended to every field path (e.g. ``"costs."``).
        unknown_key: Given the location of an unknown key, the keys allowed there
            (``None``: not known); :func:`chainsim.chain.schema.allowed_keys` reads them
            off the model.

    Returns:
        One problem per error, each with file, field, value and what is allowed.
    """
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        value = err.get("input")
        kind = err["type"]
        msg = err["msg"].removeprefix("Value error, ")
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, FieldValueError):
            if cause.field is not None:
                loc = (*loc, cause.field)
            value = cause.value
        if kind == "extra_forbidden":
            allowed = unknown_key(loc) if unknown_key is not None else None
            msg = ("unknown key" + did_you_mean(loc[-1] if loc else None, allowed)
                   + "; allowed here: " + ", ".join(allowed) if allowed
                   else "unknown key; not allowed here")
        elif kind == "literal_error":
            expected = str((err.get("ctx") or {}).get("expected", ""))
            choices = re.findall(r"'([^']*)'", expected)
            msg = "not allowed" + did_you_mean(value, choices) + "; allowed: " + expected
        elif kind == "missing":
            value = "missing"
            msg = _TYPE_WORDS[kind]
        elif kind == "string_too_short":
            least = (err.get("ctx") or {}).get("min_length", 1)
            msg = f"a text of at least {least} characters"
            if loc and loc[-1] == "note":
                msg += " saying where the number comes from"
        elif kind == "string_pattern_mismatch":
            msg = "text matching " + str((err.get("ctx") or {}).get("pattern", ""))
        elif kind in _TYPE_WORDS:
            msg = _TYPE_WORDS[kind]
        elif msg.startswith("Input should be "):
            msg = "a number " + msg.removeprefix("Input should be ") if kind in (
                "greater_than", "greater_than_equal", "less_than", "less_than_equal") else (
                msg.removeprefix("Input should be ").replace("valid ", ""))
        field = field_path(loc)
        if prefix and field.startswith("["):
            field = prefix.rstrip(".") + field
        else:
            field = prefix + field
        problems.append(Problem(file, field or "(document)", _display(value), msg))
    return problems

"""Errors that mean the user gave bad input (exit code 2, no traceback)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input.

    Attributes:
        file: The file (or command-line option) the bad value came from.
        field: Dotted path of the field, e.g. ``parameters.signal_hazard.value``.
        value: The offending value, as given.
        allowed: What would have been accepted.
    """

    file: str
    field: str
    value: object
    allowed: str

    def __str__(self) -> str:
        value = repr(self.value)
        if len(value) > 80:
            value = value[:77] + "..."
        return f"{self.file}: {self.field} = {value}: {self.allowed}"


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

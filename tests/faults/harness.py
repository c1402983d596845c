"""The fault harness: feed a loader or the CLI a bad file and check how it is rejected.

A rejected input must give (in process) an :class:`~chainsim.chain.errors.InputError`
whose problems name the file, the field, the offending value and what is
allowed, or (through ``chainsim.cli.main``) exit code 2 with one
``chainsim: error: FILE: FIELD = VALUE: ALLOWED`` line per problem, no traceback,
no output directory and no stray file.

Adding a loader (e.g. sweep designs)::

    from faults.harness import case, expect_rejected, expect_cli_rejected, dumps

    @settings(FAULTS)
    @given(...)
    def test_bad_designs(doc):
        with case("sweep design", "unknown key") as work:
            path = work.write("design.toml", dumps(doc))
            expect_rejected(load_design, path, field="sweep.bogus")
            expect_cli_rejected(["sweep", str(path), "--out", str(work.out)], work,
                                field="sweep.bogus")

Every :func:`case` is counted per loader; ``conftest.py`` prints the table at
the end of the session and writes it to ``test-output/faults-summary.md``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import math
import os
import re
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, settings

from chainsim.chain.errors import InputError, Problem

# ---------------------------------------------------------------------- settings

FAULTS = settings(derandomize=True, deadline=None, database=None, print_blob=False,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                         HealthCheck.data_too_large])
"""Reproducible (derandomized) and without deadlines: the machine is shared."""


def examples(n: int) -> settings:
    """:data:`FAULTS` with ``n`` examples (scaled by ``CHAINSIM_FAULT_SCALE``, default 1)."""
    scale = float(os.environ.get("CHAINSIM_FAULT_SCALE", "1"))
    return settings(FAULTS, max_examples=max(1, int(n * scale)))


# ---------------------------------------------------------------------- counting


@dataclass
class Tally:
    """Cases tried and failed for one loader, and the kinds of fault tried."""

    tried: int = 0
    failures: int = 0
    kinds: dict[str, int] = field(default_factory=lambda: defaultdict(int))


TALLY: dict[str, Tally] = defaultdict(Tally)
"""Loader -> counts, filled by :func:`case` (read by ``conftest.py``)."""


@dataclass
class Workspace:
    """A fresh directory for one case: inputs go in, ``out`` must never appear."""

    root: Path

    @property
    def out(self) -> Path:
        """The output directory a rejected command must not create."""
        return self.root / "out"

    def write(self, name: str, content: str | bytes) -> Path:
        """Write an input file (text as UTF-8) and return its path."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    def snapshot(self) -> set[str]:
        """Every path under the workspace (relative)."""
        return {str(p.relative_to(self.root)) for p in self.root.rglob("*")}


@contextlib.contextmanager
def case(loader: str, kind: str) -> Iterator[Workspace]:
    """Count one generated case of ``loader`` and give it a fresh workspace."""
    tally = TALLY[loader]
    tally.tried += 1
    tally.kinds[kind] += 1
    root = Path(tempfile.mkdtemp(prefix="chainsim-fault-"))
    try:
        yield Workspace(root)
    except BaseException:
        tally.failures += 1
        raise
    finally:
        shutil.rmtree(root, ignore_errors=True)


def count(loader: str, kind: str, tried: int = 1) -> contextlib.AbstractContextManager:
    """Count ``tried`` cases of a non-generated fault test (kill, full disk, ...)."""

    @contextlib.contextmanager
    def counted():
        tally = TALLY[loader]
        tally.tried += tried
        tally.kinds[kind] += tried
        try:
            yield
        except BaseException:
            tally.failures += 1
            raise

    return counted()


# ---------------------------------------------------------------------- checks

_RAW_PYDANTIC = ("Input should", "Field required", "Value error", "validation error",
                 "For further information")
_LINE = re.compile(r"^chainsim: error: (?P<file>.+?): (?P<field>.+?) = (?P<rest>.*)$")


def shown(value: object) -> str:
    """How a value appears in a message (see :class:`chainsim.chain.errors.Problem`)."""
    if isinstance(value, float) and not math.isfinite(value):
        value = str(value)
    return str(Problem("f", "x", value, "a")).removeprefix("f: x = ").removesuffix(": a")


def normalise(field: str) -> str:
    """One spelling: ``interventions[0] (name).x`` -> ``interventions.0.x``."""
    return re.sub(r"^interventions\[(\d+)\](?: \([^)]*\))?", r"interventions.\1", field)


def spellings(value: object) -> list[str]:
    """How ``value`` may be shown: as given, or as the float a number was read as."""
    out = [shown(value)[:40]]
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            out += [repr(float(value)), f"{float(value):g}"]
        except OverflowError:
            out.append("more than 300 digits")
    return out


def _holds(container: object, value: object) -> bool:
    """Whether a problem's value is ``value`` or a table/list holding it."""
    if isinstance(container, dict):
        return any(_holds(v, value) for v in container.values()) or any(
            _holds(k, value) for k in container)
    if isinstance(container, list | tuple):
        return any(_holds(v, value) for v in container)
    return shown(container) == shown(value) or any(
        s == shown(container) for s in spellings(value))


def check_problems(problems: list[Problem], file: str, field: str | None = None,
                   value: object = ..., allowed: str | None = None) -> None:
    """Every problem is complete; one names ``file`` (and ``field``, ``value``, ``allowed``).

    Args:
        problems: The problems of the error.
        file: The file name (a substring of the problem's file).
        field: A prefix of the field the problem must name (``None``: any).
        value: The offending value (``...``: not checked).
        allowed: A substring of what is allowed (``None``: not checked).
    """
    assert problems, "an InputError must carry at least one problem"
    for p in problems:
        assert p.file and p.field and p.allowed, p
        assert not any(raw in p.allowed for raw in _RAW_PYDANTIC), (
            f"raw validation text instead of what is allowed: {p}")
    about = [p for p in problems if file in p.file]
    assert about, f"no problem names {file!r}: {problems}"
    if field is not None:
        about = [p for p in about if normalise(p.field).startswith(field)]
        assert about, f"no problem names field {field!r} of {file!r}: {problems}"
    if value is not ...:
        assert any(_holds(p.value, value) or any(s in str(p) for s in spellings(value))
                   or (isinstance(value, dict | list | tuple) and _holds(value, p.value))
                   for p in about), f"no problem shows the value {shown(value)}: {about}"
    if allowed is not None:
        assert any(allowed in p.allowed for p in about), (
            f"no problem says {allowed!r} is allowed: {about}")


def expect_rejected(load: Callable[[Path], object], path: Path, file: str | None = None,
                    **expect) -> InputError:
    """``load(path)`` raises an :class:`InputError` as :func:`check_problems` wants."""
    try:
        load(path)
    except InputError as exc:
        check_problems(exc.problems, file if file is not None else path.name, **expect)
        return exc
    raise AssertionError(f"{path.name} was accepted:\n{path.read_text(errors='replace')[:2000]}")


def expect_cli_rejected(argv: list[str], work: Workspace, file: str | None = None,
                        field: str | None = None, value: object = ...,
                        inputs: set[str] | None = None) -> str:
    """``chainsim ARGV`` (in process, inside the workspace) exits 2 and leaves nothing behind.

    Checks: exit code 2; every stderr line a ``chainsim: error: FILE: FIELD = ...``
    line (argparse's usage lines for option errors); no traceback or internal
    error; ``file``/``field``/``value`` shown; no ``out`` directory; no file
    created in the workspace (temporaries included).

    Returns:
        The error output.
    """
    from chainsim.cli import main

    before = inputs if inputs is not None else work.snapshot()
    err, std = io.StringIO(), io.StringIO()
    with contextlib.chdir(work.root), contextlib.redirect_stderr(err), \
            contextlib.redirect_stdout(std):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code
    text = err.getvalue()
    assert code == 2, f"exit code {code}, not 2, for {argv}:\n{text}"
    assert "Traceback" not in text and "internal error" not in text, text
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert lines, "no message"
    if not any(ln.startswith("usage:") for ln in lines):
        for ln in lines:
            assert _LINE.match(ln), f"not a 'chainsim: error: FILE: FIELD = VALUE: ALLOWED' " \
                                    f"line: {ln!r}"
    if file is not None:
        assert file in text, f"{file!r} not named:\n{text}"
    if field is not None:
        assert field in normalise_text(text), f"field {field!r} not named:\n{text}"
    if value is not ...:
        parts = ([value] if not isinstance(value, dict | list | tuple) or not value
                 else list(value.values()) if isinstance(value, dict) else list(value))
        assert any(s in text for s in spellings(value)) or any(
            s in text for part in parts for s in spellings(part)), (
            f"value {shown(value)} not shown:\n{text}")
    assert not work.out.exists(), f"{work.out} was created"
    after = work.snapshot()
    assert after == before, f"files left behind: {sorted(after - before)}"
    return text


def normalise_text(text: str) -> str:
    """:func:`normalise` applied to the field of every ``chainsim: error:`` line."""
    return re.sub(r"interventions\[(\d+)\](?: \([^)]*\))?", r"interventions.\1", text)


# ---------------------------------------------------------------------- TOML writing


@dataclass(frozen=True)
class Raw:
    """Text written into the TOML as it is (e.g. an integer of 5000 digits)."""

    text: str


_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: str) -> str:
    return k if _BARE.match(k) else _string(k)


def _string(s: str) -> str:
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(v: object) -> str:
    if isinstance(v, Raw):
        return v.text
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, dt.datetime | dt.date | dt.time):
        return v.isoformat()
    if isinstance(v, dict):
        if not v:
            return "{}"
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def dumps(doc: dict) -> str:
    """A document as TOML text: one ``key = value`` line per top-level key, tables inline."""
    return "".join(f"{_key(k)} = {_value(v)}\n" for k, v in doc.items())

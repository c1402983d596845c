"""Progress bars on stderr (tqdm), shown only when stderr is a terminal."""

from __future__ import annotations

import sys


def progress_bar(total: int | None, desc: str, unit: str, enabled: bool = True,
                 initial: int = 0):
    """A tqdm bar on stderr; a silent one unless ``enabled`` and stderr is a terminal.

    Args:
        total: Expected count (``None``: unknown, the bar counts up).
        desc: Label, e.g. ``"replications"``.
        unit: Unit, e.g. ``"rep"``.
        enabled: Show it at all (``False`` for ``--json`` output).
        initial: Count already done (a resumed sweep).
    """
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit=unit, file=sys.stderr,
                disable=not enabled or not sys.stderr.isatty())

"""Calendar months as integers.

chainsim runs on monthly time. A calendar month is stored as one integer,
``year * 12 + (month - 1)``, so ``month // 12`` is the year and differences are
durations in months.
"""

from __future__ import annotations

import re

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> int:
    """Parse ``"YYYY-MM"`` into an absolute month index.

    Args:
        text: A month such as ``"2015-01"``.

    Returns:
        ``year * 12 + month - 1``.

    Raises:
        ValueError: If the text is not a valid ``YYYY-MM`` month.
    """
    match = _MONTH_RE.match(str(text).strip())
    if not match:
        raise ValueError(f"expected a month as YYYY-MM, got {text!r}")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 01..12, got {text!r}")
    return year * 12 + month - 1


def format_month(index: int) -> str:
    """Format an absolute month index as ``"YYYY-MM"``."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def year_of(index: int) -> int:
    """Return the calendar year of an absolute month index."""
    return index // 12

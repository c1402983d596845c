"""Numbers as a reader expects them, in English or Dutch (formatting and parsing).

One place for how chainsim writes a number on a user surface (the report, the CLI's
tables, the dashboard): thousands separators and decimal marks of the reader's
language through Babel (English ``34,165.8``, Dutch ``34.165,8``), a sensible number of
significant digits, shares as percentages, differences of shares in percentage
points, and never ``-0.0``. :func:`parse_number` reads what a reader types in the same
convention, so a Dutch reader's ``34.000`` is thirty-four thousand.
"""

from __future__ import annotations

import math

from babel.numbers import NumberFormatError, format_decimal, parse_decimal

LANGUAGES: dict[str, str] = {"en": "en_GB", "nl": "nl_NL"}
"""chainsim's languages and the Babel locale each is written in."""
MINUS = "\u2212"
"""The typographic minus sign used for negative numbers."""
POINT_UNITS: dict[str, tuple[str, str]] = {"en": ("pp", "percentage points"),
                                           "nl": ("pp", "procentpunt")}
"""Short and long name of a percentage point, per language."""


def _locale(lang: str) -> str:
    try:
        return LANGUAGES[lang]
    except KeyError:
        raise ValueError(f"language {lang!r} is not one of {', '.join(LANGUAGES)}") from None


def decimals_for(value: float, digits: int = 3, most: int = 2) -> int:
    """Decimals that show ``value`` with ``digits`` significant digits (at most ``most``).

    Args:
        value: The number to show.
        digits: Significant digits wanted.
        most: Upper limit on the decimals (a count of people never needs five).

    Returns:
        The number of decimals, between 0 and ``most``.
    """
    if not math.isfinite(value) or value == 0:
        return 0
    magnitude = math.floor(math.log10(abs(value)))
    return int(min(max(digits - 1 - magnitude, 0), most))


def format_number(value: float, lang: str = "en", *, decimals: int | None = None,
                  digits: int = 3, most: int = 2) -> str:
    """Write a number with the reader's separators and sensible precision.

    Args:
        value: The number.
        lang: ``"en"`` or ``"nl"``.
        decimals: Fixed decimals; by default chosen by :func:`decimals_for`.
        digits: Significant digits when ``decimals`` is not given.
        most: Most decimals when ``decimals`` is not given.

    Returns:
        For example ``"34,165.8"`` (en) or ``"34.165,8"`` (nl); a value that rounds to
        zero is ``"0"`` (never ``"-0.0"``); negative numbers carry a typographic minus;
        ``"–"`` for a missing (NaN) value.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else f"{MINUS}∞"
    places = decimals_for(value, digits, most) if decimals is None else decimals
    rounded = round(float(value), places)
    if rounded == 0:
        rounded = 0.0
        places = 0 if decimals is None else places
    pattern = "#,##0" + ("." + "0" * places if places else "")
    text = format_decimal(abs(rounded), format=pattern, locale=_locale(lang))
    return f"{MINUS}{text}" if rounded < 0 else text


def format_signed(value: float, lang: str = "en", **kwargs) -> str:
    """Like :func:`format_number` with an explicit ``+`` on positive changes."""
    text = format_number(value, lang, **kwargs)
    positive = not text.startswith((MINUS, "–")) and any(c in "123456789" for c in text)
    return f"+{text}" if positive else text


def format_percent(share: float, lang: str = "en", *, decimals: int = 1) -> str:
    """A share (0–1) as a percentage: ``"47.9 %"`` (en), ``"47,9 %"`` (nl)."""
    return f"{format_number(100.0 * share, lang, decimals=decimals)} %"


def format_points(difference: float, lang: str = "en", *, decimals: int = 1,
                  long: bool = False) -> str:
    """A difference of two shares (0–1 scale) in percentage points, signed.

    Args:
        difference: Share minus share, as fractions (``-0.038``).
        lang: ``"en"`` or ``"nl"``.
        decimals: Decimals of the points.
        long: Write the unit in full (``percentage points``) instead of ``pp``.

    Returns:
        For example ``"−3.8 pp"``; ``"0.0 pp"`` when it rounds to zero.
    """
    _locale(lang)
    short, full = POINT_UNITS[lang]
    return f"{format_signed(100.0 * difference, lang, decimals=decimals)} {full if long else short}"


def parse_number(text: str, lang: str = "en") -> float:
    """Read a number typed in the reader's convention.

    Args:
        text: What the reader typed, e.g. ``"34.000"`` or ``"1.234,5"`` in Dutch,
            ``"34,000"`` in English; spaces, a leading ``+`` and a typographic minus are
            accepted.
        lang: ``"en"`` or ``"nl"``.

    Returns:
        The number.

    Raises:
        ValueError: When ``text`` is not a number in that language's convention; the
            message says what was expected.
    """
    cleaned = text.strip().replace(MINUS, "-").replace("\u00a0", "").replace(" ", "")
    if cleaned.startswith("+"):
        cleaned = cleaned[1:]
    try:
        value = float(parse_decimal(cleaned, locale=_locale(lang), strict=True))
    except (NumberFormatError, ValueError):
        example = format_number(34000.5, lang, decimals=1)
        raise ValueError(f"{text!r} is not a number (write it like {example})") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def format_relative(change: float | None, base: float | None, lang: str = "en") -> str:
    """A change relative to a baseline level, as a signed percentage.

    Args:
        change: The change, in the level's unit (``-1167``).
        base: The baseline level, in the same unit (``41010``).
        lang: ``"en"`` or ``"nl"``.

    Returns:
        For example ``"−2.8 %"``, ``"+201 %"``, ``"−0.04 %"`` (two significant digits,
        at most two decimals); ``"–"`` when the baseline is zero or missing; ``"0 %"``
        when the change rounds to zero.
    """
    if change is None or base is None or base == 0 or not math.isfinite(base):
        return "–"
    if isinstance(change, float) and math.isnan(change):
        return "–"
    return f"{format_signed(100.0 * change / abs(base), lang, digits=2, most=2)} %"


def format_count(count: float, one: str, many: str, lang: str = "en") -> str:
    """A whole count with its noun in the right number: ``"1 replication"``, ``"20 replications"``.

    Args:
        count: The count.
        one: The noun for exactly one.
        many: The noun for any other count.
        lang: ``"en"`` or ``"nl"``.
    """
    return f"{format_number(count, lang, decimals=0)} {one if count == 1 else many}"


def format_month(month: str, lang: str = "en") -> str:
    """A ``YYYY-MM`` month in words: ``"January 2021"`` (en), ``"januari 2021"`` (nl).

    Raises:
        ValueError: When ``month`` is not ``YYYY-MM``.
    """
    import datetime

    from babel.dates import format_date

    try:
        year, mon = (int(part) for part in month.split("-"))
        day = datetime.date(year, mon, 1)
    except ValueError:
        raise ValueError(f"{month!r} is not a month written YYYY-MM") from None
    return format_date(day, "MMMM y", locale=_locale(lang))


def format_given(value: float, lang: str = "en", *, digits: int = 4) -> str:
    """A number as a person would write it: no trailing zeros, the reader's separators.

    Up to ``digits`` significant digits: ``0.55``, ``1,300``, ``0.012``, ``2``.

    For figures that were given rather than estimated (a source's figure, a parameter's
    central value and range, an axis tick).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    places = decimals_for(value, digits, most=6)
    while places > 0 and round(value, places - 1) == round(value, places):
        places -= 1
    return format_number(value, lang, decimals=places)

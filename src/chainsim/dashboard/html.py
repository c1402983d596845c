"""HTML snippets (escaped) for the dashboard's tables."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

TABLE_STYLE = ("border-collapse:collapse;font-size:13px;margin:6px 0;"
               "font-family:Roboto,Helvetica,Arial,sans-serif")
CELL_STYLE = "border-bottom:1px solid #e0e0e0;padding:3px 10px;text-align:left"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], css_class: str = "") -> str:
    """An HTML table with every cell escaped."""
    head = "".join(f'<th style="{CELL_STYLE}">{escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td style="{CELL_STYLE}">{escape(str(c))}</td>' for c in row)
        + "</tr>" for row in rows)
    return (f'<table class="{escape(css_class)}" style="{TABLE_STYLE}"><thead><tr>{head}'
            f"</tr></thead><tbody>{body}</tbody></table>")

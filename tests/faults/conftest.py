"""Fault suite: print and save how many bad inputs each loader was given and how many slipped.

The table goes to the terminal at the end of the session (so CI output shows it)
and to ``test-output/faults-summary.md``.
"""

from __future__ import annotations

from pathlib import Path

from faults.harness import TALLY

SUMMARY = Path(__file__).resolve().parents[2] / "test-output" / "faults-summary.md"


def _table() -> list[str]:
    rows = ["| loader / fault | kinds of fault | cases tried | failures |",
            "|---|---|---:|---:|"]
    total_tried = total_failed = 0
    for loader in sorted(TALLY):
        t = TALLY[loader]
        kinds = ", ".join(f"{k} ({n})" for k, n in sorted(t.kinds.items()))
        rows.append(f"| {loader} | {kinds} | {t.tried} | {t.failures} |")
        total_tried += t.tried
        total_failed += t.failures
    rows.append(f"| **total** | | **{total_tried}** | **{total_failed}** |")
    return rows


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Print the fault table and write it to ``test-output/faults-summary.md``."""
    if not TALLY:
        return
    rows = _table()
    terminalreporter.section("fault suite: cases tried per loader")
    for row in rows:
        terminalreporter.write_line(row)
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text("# Fault suite\n\n" + "\n".join(rows) + "\n", encoding="utf-8")
    terminalreporter.write_line(f"(written to {SUMMARY})")

"""Unit costs a user supplies, and the yearly cost of a chain they imply.

chainsim ships no cost figures: unit costs differ by year, region and accounting
convention, so the user gives them (``--costs FILE``)::

    [costs]                      # euros (or any one currency)
    prison_month = 8000          # one month in prison or pre-trial detention
    probation_month = 400        # one month of probation supervision
    court_case = 12000           # one summons brought to trial
    investigation = 30000        # one police investigation started
    note = "where the numbers come from"
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from chainsim.chain.errors import InputError
from chainsim.chain.schema import Note, StrictModel, validate
from chainsim.chain.tomlfile import read_toml

MAX_COST = 1e12
"""Largest unit cost accepted (larger is a typing error; it would overflow the totals)."""

Cost = Annotated[float, Field(ge=0, le=MAX_COST, allow_inf_nan=False)]


class UnitCosts(StrictModel):
    """Cost of one unit of each kind of work."""

    prison_month: Cost = 0.0
    probation_month: Cost = 0.0
    court_case: Cost = 0.0
    investigation: Cost = 0.0
    note: Note

    def per_year(self, proxies: dict[str, float]) -> float:
        """Yearly cost from the workload proxies of one replication."""
        return (self.prison_month * proxies["prison_months_served"]
                + self.probation_month * 12 * proxies["probation_caseload"]
                + self.court_case * proxies["court_cases"]
                + self.investigation * proxies["investigations"])


def load_costs(path: str | Path) -> UnitCosts:
    """Read and validate a unit-costs file (``[costs]`` table).

    Raises:
        InputError: Naming file, field, value and what is allowed.
    """
    file = str(path)
    doc = read_toml(path, file)
    if set(doc) != {"costs"}:
        raise InputError.single(file, "(document)", sorted(doc) or "empty",
                                "exactly one table, [costs]")
    if not isinstance(doc["costs"], dict):
        raise InputError.single(file, "costs", doc["costs"],
                                "a [costs] table of unit costs and a note")
    return validate(UnitCosts, doc["costs"], file, prefix="costs.")

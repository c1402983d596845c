"""A commented starting scenario (``chainsim new NAME --from baseline``).

The text inherits a shipped scenario by name (``base = "chainsim:NAME"``), so it
works wherever it is saved, and loads and runs as written; its commented examples
(an overridden parameter, a dated intervention with the allowed operations) are
valid when uncommented.
"""

from __future__ import annotations

import re

from chainsim.chain.config import NAME_PATTERN, SHIPPED_PREFIX, shipped_scenario
from chainsim.chain.errors import InputError

_TEMPLATE = '''\
# {name}: a chainsim scenario, written by `chainsim new {name} --from {base}`.
#
# It inherits every parameter of the shipped scenario "{base}" (with its calibration)
# and changes what you add below. Check it, run it, compare it:
#   chainsim validate {file}
#   chainsim run {file}
#   chainsim compare chainsim:baseline {file}
# Every parameter with its unit, role, default and range: `chainsim parameters`
# (or docs/parameters.md); the format: docs/scenarios.md.

base = "{shipped}"

[scenario]
name = "{name}"
description = "What this scenario changes, and why."
# start = "2005-01"    # the horizon is inherited; change it here if you need to
# end = "2035-12"

# Replace a parameter's value (the whole entry of the base is replaced, so give a note):
# [parameters.investigation_capacity]
# value = 250.0
# note = "where the number comes from"

# A dated intervention on one parameter (remove the '# ' of its lines to use it):
# [[interventions]]
# name = "more supervision after prison"
# parameter = "probation_share_prison"   # any name from `chainsim parameters`
# operation = "multiply"                 # one of: set | multiply | add
# value = 1.5                            # the new value, the multiplier or the amount added
# low = 1.2                              # optional, with high: an uncertain effect ...
# high = 1.8                             # ... and its plausible range
# start = "2021-01"                      # a month (YYYY-MM) within the horizon
# ramp_months = 12                       # optional: phased in linearly over these months
# end = "2030-12"                        # optional: the change stops after this month
# target = {{ age_group = ["under23"] }}   # optional: form, age_group, sex, probation
# note = "where the effect size comes from"
'''


def starting_scenario(name: str, base: str = "baseline", file: str | None = None) -> str:
    """The text of a commented scenario ``name`` that inherits the shipped ``base``.

    Args:
        name: The scenario's name (it names its default output directory).
        base: A shipped scenario (``baseline`` or ``chainsim:baseline``).
        file: The file name the text will be saved as (shown in its comments).

    Raises:
        InputError: If ``name`` is not a valid scenario name or ``base`` not a
            shipped scenario.
    """
    if not re.match(NAME_PATTERN, name):
        raise InputError.single("<command line>", "NAME", name,
                                "a name of 1-64 letters, digits, '_', '.' or '-', starting "
                                "with a letter or digit (it names the output directory)")
    stem = shipped_scenario(base, "<command line>", "--from").stem
    return _TEMPLATE.format(name=name, base=stem, shipped=SHIPPED_PREFIX + stem,
                            file=file or f"{name}.toml")

"""The source's figures as targets (``calibration/targets.toml``).

Two classes of targets share the file:

- ``[targets.*]`` (:class:`Target`, :func:`load_targets`): the Dadermonitor's figures
  that ``chainsim calibrate`` fits;
- ``[validation.*]`` (:class:`ValidationTarget`, :func:`load_validation_targets`): the
  WODC Recidivism Monitor's published rates as plausibility bounds on the recidivism
  proxies, never fitted; :mod:`chainsim.analysis.validation` evaluates them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from chainsim.chain.config import FormName
from chainsim.chain.errors import FieldValueError
from chainsim.chain.schema import Note, Number, StrictModel, validate
from chainsim.chain.tomlfile import read_toml

DEFAULT_TARGETS = Path(__file__).resolve().parents[3] / "calibration" / "targets.toml"
"""``calibration/targets.toml`` of the source checkout chainsim is installed from."""


class Target(StrictModel):
    """One figure of the source.

    Attributes:
        metric: The summary key it constrains.
        form: Restrict a count to one form of exploitation (``window_mean`` only).
        scope: ``window_mean`` (2015-2019 yearly average), ``by_year`` or ``shares``.
        kind: ``point``, ``range``, ``lower_bound`` or ``share``.
        value: The figure (point, lower bound, share).
        low: Lower end of a range.
        high: Upper end of a range.
        sd: Uncertainty attached to it, in the metric's units.
        years: ``"2015-2019"`` or one year.
        source: Where it comes from.
        conflict: Why the figure may be in conflict with the model (a definition that
            differs, a figure the source's others contradict). Its likelihood is then a
            robust mixture (:mod:`chainsim.analysis.likelihood`); without, the figure is
            taken as stated, within its sd and the model discrepancy.
    """

    metric: str
    form: FormName | None = None
    scope: Literal["window_mean", "by_year", "shares"]
    kind: Literal["point", "range", "lower_bound", "share"]
    value: Number | None = None
    low: Number | None = None
    high: Number | None = None
    sd: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    years: str
    source: Note
    conflict: Note | None = Field(default=None, repr=False)  # not in the chain's fingerprint

    @model_validator(mode="after")
    def _values(self):
        from chainsim.analysis.flows import COUNT_METRICS, METRICS, RATIO_METRICS, SHARES, WINDOW

        names = SHARES if self.scope == "shares" else METRICS
        if self.metric not in names:
            raise FieldValueError(f"a {self.scope} metric: " + ", ".join(names), "metric",
                                  self.metric)
        if self.form is not None and (self.scope != "window_mean"
                                      or self.metric not in COUNT_METRICS):
            raise FieldValueError("'form' applies to window_mean targets of counts only ("
                                  + ", ".join(COUNT_METRICS) + ")", "form", self.form)
        window = f"{WINDOW[0]}-{WINDOW[1]}"
        if self.scope == "by_year":
            if not (len(self.years) == 4 and self.years.isascii() and self.years.isdigit()
                    and WINDOW[0] <= int(self.years) <= WINDOW[1]):
                raise FieldValueError(f"one year of the source's window, {WINDOW[0]}.."
                                      f"{WINDOW[1]}, for a by_year target", "years", self.years)
        elif self.years != window:
            raise FieldValueError(f"'{window}' (the window {self.scope} targets are "
                                  "averaged over)", "years", self.years)
        is_share = self.scope == "shares" or self.metric in RATIO_METRICS
        if self.kind == "share" and not is_share:
            raise FieldValueError("point, range or lower_bound (kind share is for shares: "
                                  + ", ".join((*SHARES, *RATIO_METRICS)) + ")", "kind",
                                  self.kind)
        if self.kind == "range":
            if self.low is None or self.high is None:
                raise FieldValueError("a range needs low and high", "low" if self.low is None
                                      else "high", "missing")
            if self.low > self.high:
                raise FieldValueError("a range needs low <= high", "low", self.low)
        elif self.value is None:
            raise FieldValueError(f"a {self.kind} target needs 'value'", "value", "missing")
        lo, hi, what = ((0.0, 1.0, "a share must lie in [0, 1]") if is_share else
                        (1.0, 600.0, "months must lie in [1, 600]")
                        if self.metric == "prison_months" else
                        (0.0, 1e7, "a count per year must lie in [0, 1e7]"))
        for key in ("value", "low", "high"):
            v = getattr(self, key)
            if v is not None and not lo <= v <= hi:
                raise FieldValueError(what, key, v)
        return self

    @property
    def interval(self) -> tuple[float, float]:
        """The observed figure as an interval (a point is a degenerate one)."""
        if self.kind == "range":
            return float(self.low), float(self.high)
        if self.kind == "lower_bound":
            return float(self.value), float("inf")
        return float(self.value), float(self.value)


Group = str | bool
"""A group of a stratum (``probation`` groups are ``true``/``false``)."""

Strata = dict[str, Group | list[Group]]
"""``{stratum: group or list of groups}``: index offenders in every stratum's group(s)."""


class ValidationTarget(StrictModel):
    """A published figure a recidivism proxy should come near (plausibility bounds).

    Attributes:
        proxy: The proxy, ``<kind>_<years>y`` (e.g. ``observed_general_2y``; see
            :mod:`chainsim.analysis.recidivism`).
        where: The index offenders it is computed over: ``{stratum: group(s)}`` over
            :data:`chainsim.analysis.recidivism.COHORT_STRATA` (every stratum must
            hold; a list: any of its groups). Empty: the whole cohort.
        minus: For a difference: the group whose value is subtracted (same form as
            ``where``); ``None``: the value itself.
        low: Lower bound of the plausible values (a share, or a difference of shares).
        high: Upper bound.
        source: The published figure(s) and where they come from.
        note: How like is compared with like, and why the bounds are as wide as they are.
    """

    proxy: str
    where: Strata = Field(default_factory=dict)
    minus: Strata | None = None
    low: Number
    high: Number
    source: Note
    note: Note

    @model_validator(mode="after")
    def _values(self):
        from chainsim.analysis.recidivism import COHORT_STRATA, parse_proxy, stratum_groups

        try:
            parse_proxy(self.proxy)
        except ValueError as exc:
            raise FieldValueError(str(exc).split(", got")[0], "proxy", self.proxy) from None
        for key in ("where", "minus"):
            for name, value in (getattr(self, key) or {}).items():
                if name not in COHORT_STRATA:
                    raise FieldValueError("a stratum: " + ", ".join(COHORT_STRATA),
                                          f"{key}.{name}", name)
                allowed = stratum_groups(name)
                for v in value if isinstance(value, list) else [value]:
                    if v not in allowed or isinstance(v, bool) != isinstance(allowed[0], bool):
                        raise FieldValueError(f"a group of {name}: "
                                              + ", ".join(str(g).lower() if isinstance(g, bool)
                                                          else g for g in allowed),
                                              f"{key}.{name}", v)
                if isinstance(value, list) and not value:
                    raise FieldValueError("at least one group", f"{key}.{name}", value)
        lo, hi = (-1.0, 1.0) if self.minus is not None else (0.0, 1.0)
        for key in ("low", "high"):
            v = getattr(self, key)
            if not lo <= v <= hi:
                raise FieldValueError(f"a {'difference of shares' if lo < 0 else 'share'} in "
                                      f"[{lo:g}, {hi:g}]", key, v)
        if self.low > self.high:
            raise FieldValueError("low <= high", "low", self.low)
        return self


class TargetFile(StrictModel):
    """A validated targets file: fitted targets and, optionally, validation targets."""

    targets: Annotated[dict[str, Target], Field(min_length=1)]
    validation: dict[str, ValidationTarget] = Field(default_factory=dict)


def load_targets(path: str | Path = DEFAULT_TARGETS) -> dict[str, Target]:
    """Read and validate a targets file; the targets ``chainsim calibrate`` fits.

    Raises:
        InputError: If the file is missing, not TOML, or a field is invalid (of any
            class of target).
    """
    return _load(path).targets


def load_validation_targets(path: str | Path = DEFAULT_TARGETS) -> dict[str, ValidationTarget]:
    """Read and validate a targets file; its validation targets (never fitted).

    Returns:
        Name -> target, in file order (empty if the file has none).

    Raises:
        InputError: If the file is missing, not TOML, or a field is invalid.
    """
    return _load(path).validation


def _load(path: str | Path) -> TargetFile:
    file = str(path)
    return validate(TargetFile, read_toml(path, file), file)

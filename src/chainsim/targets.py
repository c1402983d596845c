"""The source's figures as targets (``calibration/targets.toml``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chainsim.errors import InputError, Problem
from chainsim.tomlfile import read_toml

Number = Annotated[float, Field(allow_inf_nan=False)]
FormName = Literal["domestic_sexual", "cross_border_sexual", "labour", "criminal", "other"]

DEFAULT_TARGETS = Path(__file__).resolve().parents[2] / "calibration" / "targets.toml"
"""``calibration/targets.toml`` of the source checkout chainsim is installed from."""


class Target(BaseModel):
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
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str
    form: FormName | None = None
    scope: Literal["window_mean", "by_year", "shares"]
    kind: Literal["point", "range", "lower_bound", "share"]
    value: Number | None = None
    low: Number | None = None
    high: Number | None = None
    sd: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    years: Annotated[str, Field(pattern=r"^\d{4}(-\d{4})?$")]
    source: Annotated[str, Field(min_length=3)]

    @model_validator(mode="after")
    def _values(self):
        if self.form is not None and self.scope != "window_mean":
            raise ValueError("'form' applies to window_mean targets only")
        if self.kind == "range":
            if self.low is None or self.high is None or self.low > self.high:
                raise ValueError("a range needs low <= high")
        elif self.value is None:
            raise ValueError(f"a {self.kind} target needs 'value'")
        if self.kind == "share" and not 0 <= self.value <= 1:
            raise ValueError("a share must lie in [0, 1]")
        return self

    @property
    def interval(self) -> tuple[float, float]:
        """The observed figure as an interval (a point is a degenerate one)."""
        if self.kind == "range":
            return float(self.low), float(self.high)
        if self.kind == "lower_bound":
            return float(self.value), float("inf")
        return float(self.value), float(self.value)


class TargetFile(BaseModel):
    """A validated targets file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    targets: dict[str, Target]


def load_targets(path: str | Path = DEFAULT_TARGETS) -> dict[str, Target]:
    """Read and validate a targets file.

    Raises:
        InputError: If the file is missing, not TOML, or a field is invalid.
    """
    file = str(path)
    doc = read_toml(path, file)
    try:
        return TargetFile.model_validate(doc).targets
    except ValidationError as exc:
        raise InputError([
            Problem(file, ".".join(map(str, e["loc"])), e.get("input"),
                    e["msg"].removeprefix("Value error, "))
            for e in exc.errors()
        ]) from None

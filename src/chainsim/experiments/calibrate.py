"""Calibration of the chain to the Dadermonitor figures, on the expected-flow twin.

A :class:`Calibrator` (scikit-learn style: settings in ``__init__``, work in
``fit``, results in attributes ending in ``_``) adjusts a set of *knobs* — the
scenario entries the figures cannot pin down by simple division — so that the
twin's expected flows meet the targets (:mod:`chainsim.analysis.fit`).

Method: penalised least squares in log-knob space with SciPy's trust-region
reflective solver (``scipy.optimize.least_squares``, bounds respected). Every
target contributes its residual (point/share: scaled deviation; range and lower
bound: zero where met). A weak prior residual ``(log k - log k0) / prior_sd`` per
knob keeps directions the targets do not inform at their starting values and
makes the problem well posed; comparing each knob's posterior spread with its
prior spread says whether the targets *determine* it. Parameter uncertainty is
the Laplace approximation at the optimum (``(J^T J)^-1``), sampled into an
ensemble of parameter sets consistent with the targets' uncertainty.

The twin runs in chain mode during the search (milliseconds to tenths of a
second per evaluation); re-entries from after the chain come from a full twin run
at the start and are refreshed at the optimum, after which the search is polished.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from chainsim.analysis.fit import residual, target_key, twin_metrics
from chainsim.analysis.targets import Target
from chainsim.chain.config import Scenario, scenario_from_dict
from chainsim.chain.errors import InputError
from chainsim.chain.months import parse_month
from chainsim.chain.parameters import resolve
from chainsim.chain.spec import FORMS
from chainsim.engines.twin import expected_flows

CALIBRATION_END = "2019-12"
"""The search runs the twin to the end of the Dadermonitor window only."""


@dataclass(frozen=True)
class Knob:
    """One adjustable scenario entry.

    Attributes:
        parameter: The parameter.
        field: ``scale`` (multiply value and per-form values), ``value``,
            ``trend:YYYY-MM`` (a trend multiplier) or ``by_form:FORM`` (one form's
            value; for ``inflow_form_share`` the other forms are rescaled so the
            shares still sum to 1).
        low: Smallest allowed knob value.
        high: Largest allowed knob value.
    """

    parameter: str
    field: str
    low: float
    high: float

    @property
    def name(self) -> str:
        """``parameter.field``."""
        return f"{self.parameter}.{self.field}"


DEFAULT_KNOBS: tuple[Knob, ...] = (
    Knob("signal_hazard", "scale", 0.2, 5.0),
    Knob("signal_hazard", "trend:2016-06", 0.5, 2.5),
    Knob("signal_hazard", "trend:2019-06", 0.2, 1.5),
    Knob("inspection_hazard", "scale", 0.1, 10.0),
    Knob("investigation_capacity", "value", 80.0, 500.0),
    Knob("investigation_capacity", "trend:2019-06", 0.4, 1.5),
    Knob("queue_drop_hazard", "value", 0.002, 0.5),
    Knob("technical_dismissal_share", "scale", 0.3, 2.0),
    Knob("technical_dismissal_share", "trend:2016-06", 0.4, 2.0),
    Knob("technical_dismissal_share", "trend:2019-06", 0.5, 2.5),
    Knob("conviction_prob", "scale", 0.4, 1.35),
    Knob("conviction_prob", "by_form:labour", 0.05, 0.95),
    Knob("prison_prob", "scale", 0.4, 1.1),
    Knob("prison_months_mean", "scale", 0.4, 2.5),
    Knob("probation_share_prison", "value", 0.01, 0.95),
    Knob("inflow_form_share", "by_form:domestic_sexual", 0.1, 0.8),
    Knob("inflow_form_share", "by_form:criminal", 0.01, 0.3),
    Knob("inflow_form_share", "by_form:labour", 0.02, 0.5),
    Knob("young_share", "by_form:domestic_sexual", 0.02, 0.8),
    Knob("young_share", "by_form:criminal", 0.01, 0.8),
    Knob("female_share", "value", 0.02, 0.5),
)
"""What the calibration adjusts; everything else keeps its scenario value."""


def knob_values(doc: dict, knobs: tuple[Knob, ...]) -> np.ndarray:
    """Current values of the knobs in a scenario document (``scale`` knobs are 1)."""
    out = []
    for k in knobs:
        entry = doc["parameters"][k.parameter]
        if k.field == "scale":
            out.append(1.0)
        elif k.field == "value":
            out.append(float(entry["value"]))
        elif k.field.startswith("trend:"):
            out.append(float((entry.get("trend") or {}).get(k.field[6:], 1.0)))
        else:
            out.append(float(entry["by_form"][k.field[8:]]))
    return np.array(out)


def calibration_cut(scenario: Scenario, source: str = "<calibration period>") -> Scenario:
    """``scenario`` as the figures are checked on it: to :data:`CALIBRATION_END`, no interventions.

    Its ``base`` and ``calibration`` are dropped (their values are in the dump already).
    """
    doc = scenario.model_dump(mode="json", exclude_none=True)
    for key in ("base", "calibration"):
        doc.pop(key, None)
    doc["scenario"]["end"] = CALIBRATION_END
    doc["interventions"] = []
    return scenario_from_dict(doc, source)


def apply_knobs(doc: dict, knobs: tuple[Knob, ...], values: np.ndarray) -> dict:
    """A copy of a scenario document with the knobs set."""
    doc = copy.deepcopy(doc)
    for k, v in zip(knobs, values, strict=True):
        entry = doc["parameters"][k.parameter]
        v = float(v)
        if k.field == "scale":
            if entry.get("value") is not None:
                entry["value"] *= v
            if entry.get("by_form"):
                entry["by_form"] = {f: x * v for f, x in entry["by_form"].items()}
        elif k.field == "value":
            entry["value"] = v
        elif k.field.startswith("trend:"):
            trend = dict(entry.get("trend") or {})
            trend[k.field[6:]] = v
            entry["trend"] = dict(sorted(trend.items(), key=lambda kv: parse_month(kv[0])))
        else:
            entry["by_form"] = {**entry["by_form"], k.field[8:]: v}
    _renormalise_form_shares(doc, knobs)
    return doc


def _renormalise_form_shares(doc: dict, knobs: tuple[Knob, ...]) -> None:
    """Forms whose inflow share is a knob keep it; the others share what is left."""
    set_forms = {k.field[8:] for k in knobs
                 if k.parameter == "inflow_form_share" and k.field.startswith("by_form:")}
    if not set_forms:
        return
    shares = doc["parameters"]["inflow_form_share"]["by_form"]
    left = 1.0 - sum(shares[f] for f in set_forms)
    rest = sum(x for f, x in shares.items() if f not in set_forms)
    for f in shares:
        if f not in set_forms:
            shares[f] = shares[f] / rest * left if rest > 0 else left / (len(shares)
                                                                           - len(set_forms))


@dataclass
class FitRow:
    """One target's observed and fitted value."""

    name: str
    target: Target
    model: float
    lo: float
    hi: float

    @property
    def residual(self) -> float:
        """Scaled residual at the fitted value."""
        return residual(self.target, self.model)


class Calibrator:
    """Fit the chain's knobs to the source's targets on the expected-flow twin.

    Args:
        targets: Target name -> target (``chainsim.analysis.targets.load_targets``).
        knobs: What to adjust (default :data:`DEFAULT_KNOBS`).
        prior_sd: Spread (log scale) of the weak prior around the starting values.
        exclude: Target names left out of the fit (e.g. for a back-test).
        ensemble_size: Parameter sets drawn from the fitted uncertainty.
        seed: Seed of the ensemble draws.
        max_residual: An ensemble member is kept only if it meets every fitted
            target within this many sds (so members are consistent with the targets).
        on_evaluation: Called after every twin evaluation (e.g. a progress bar).

    Attributes (after :meth:`fit`):
        values_: Fitted knob values.
        log_sd_: Posterior standard deviation of each knob (log scale).
        ensemble_: Knob values of the ensemble, ``(ensemble_size, knobs)``.
        scenario_: The calibrated scenario (horizon as the input's).
        fit_rows_: Per target: observed, fitted, and the ensemble's 5-95 % range.
        cost_: Half the sum of squared target residuals at the optimum.
        proposal_scale_: Scale of the Laplace covariance the ensemble was drawn with.
        ensemble_tried_: Candidates drawn for the ensemble.
        evaluations_: Twin evaluations used.
        seconds_: Wall time of the fit.
    """

    def __init__(self, targets: dict[str, Target], knobs: tuple[Knob, ...] = DEFAULT_KNOBS,
                 prior_sd: float = 0.5, exclude: tuple[str, ...] = (),
                 ensemble_size: int = 40, seed: int = 0, max_residual: float = 2.0,
                 on_evaluation=None):
        self.targets = targets
        self.knobs = knobs
        self.prior_sd = prior_sd
        self.exclude = exclude
        self.ensemble_size = ensemble_size
        self.seed = seed
        self.max_residual = max_residual
        self.on_evaluation = on_evaluation

    # --------------------------------------------------------------- internals

    def _fitted_targets(self) -> dict[str, Target]:
        return {n: t for n, t in self.targets.items() if n not in self.exclude}

    def _metrics(self, doc: dict, values: np.ndarray, full: bool,
                 targets: dict[str, Target]):
        sc = scenario_from_dict(apply_knobs(doc, self.knobs, values), "<calibration>")
        params = resolve(sc, "<calibration>")
        ef = expected_flows(params, full=full, reentries=None if full else self._reentries)
        self.evaluations_ += 1
        if self.on_evaluation is not None:
            self.on_evaluation()
        keys = [target_key(t) for t in targets.values()]
        return twin_metrics(ef, keys), ef

    def _residuals(self, z: np.ndarray, doc: dict, targets: dict[str, Target]) -> np.ndarray:
        values = np.exp(z)
        try:
            pred, _ = self._metrics(doc, values, False, targets)
        except InputError:  # knobs outside what the scenario allows (shares > 1, ...)
            r = np.full(len(targets), 1e3)
        else:
            r = np.array([residual(t, pred[target_key(t)]) for t in targets.values()])
            r = np.nan_to_num(r, nan=1e3)
        prior = (z - self._z0) / self.prior_sd
        return np.concatenate([r, prior])

    # -------------------------------------------------------------------- fit

    def fit(self, scenario: Scenario) -> Calibrator:
        """Calibrate the knobs of ``scenario``.

        Returns:
            ``self``, with the fitted attributes set.
        """
        start = time.perf_counter()
        self.evaluations_ = 0
        doc = scenario.model_dump(mode="json", exclude_none=True)
        doc.pop("base", None)
        short = copy.deepcopy(doc)
        short["scenario"]["end"] = CALIBRATION_END
        short["interventions"] = []
        x0 = knob_values(doc, self.knobs)
        lo = np.log([k.low for k in self.knobs])
        hi = np.log([k.high for k in self.knobs])
        self._z0 = np.clip(np.log(x0), lo + 1e-9, hi - 1e-9)
        targets = self._fitted_targets()
        z = self._z0
        result = None
        for budget in (150, 40):  # search, refresh the re-entries from a full run, polish
            _, ef = self._metrics(short, np.exp(z), True, targets)
            self._reentries = ef.reentries
            result = least_squares(self._residuals, z, bounds=(lo, hi), args=(short, targets),
                                   diff_step=1e-3, max_nfev=budget, ftol=1e-5, xtol=1e-5,
                                   gtol=1e-6)
            z = result.x
        n_t = len(targets)
        cov = np.linalg.pinv(result.jac.T @ result.jac)
        self.values_ = np.exp(z)
        self.log_sd_ = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        self.cost_ = 0.5 * float(np.sum(result.fun[:n_t] ** 2))
        self.scenario_ = scenario_from_dict(apply_knobs(doc, self.knobs, self.values_),
                                            "<calibrated>")
        best, ef = self._metrics(short, self.values_, True, self.targets)
        self._reentries = ef.reentries
        self.ensemble_, members = self._draw_ensemble(z, cov, lo, hi, short, targets)
        self.fit_rows_ = []
        for name, t in self.targets.items():
            key = target_key(t)
            spread = np.array([m[key] for m in members] or [best[key]])
            self.fit_rows_.append(FitRow(name, t, best[key], float(np.percentile(spread, 5)),
                                         float(np.percentile(spread, 95))))
        self.seconds_ = time.perf_counter() - start
        return self

    def _draw_ensemble(self, z, cov, lo, hi, short, targets):
        """Knob sets consistent with the targets' uncertainty.

        Candidates come from the Laplace approximation ``N(z, c * cov)`` inside the
        knobs' bounds (a truncated normal by redrawing, not a clip); a candidate is
        kept if the twin meets every fitted target within ``max_residual`` sds.
        Range and bound targets are flat where met, so the approximation is broad
        in their directions and many joint draws miss some target: the proposal
        scale ``c`` halves after a batch with fewer than a quarter kept
        (:attr:`proposal_scale_` reports the final ``c``).
        """
        rng = np.random.default_rng(self.seed)
        kept, metrics = [], []
        scale, tried = 1.0, 0
        while len(kept) < self.ensemble_size and tried < 8 * self.ensemble_size:
            batch_kept = 0
            for _ in range(20):
                tried += 1
                draw = rng.multivariate_normal(z, scale * cov, method="svd")
                if np.any(draw < lo) or np.any(draw > hi):
                    continue
                try:
                    pred, _ = self._metrics(short, np.exp(draw), False, self.targets)
                except InputError:
                    continue
                res = [residual(t, pred[target_key(t)]) for t in targets.values()]
                if np.all(np.abs(np.nan_to_num(res, nan=np.inf)) <= self.max_residual):
                    kept.append(np.exp(draw))
                    metrics.append(pred)
                    batch_kept += 1
            if batch_kept < 5:
                scale *= 0.5
        self.proposal_scale_ = scale
        self.ensemble_tried_ = tried
        n = self.ensemble_size
        return np.array(kept[:n]).reshape(-1, len(self.knobs)), metrics[:n]

    # ---------------------------------------------------------------- reports

    def fit_table(self) -> pd.DataFrame:
        """Per target: observed, fitted and the ensemble's 90 % range, residual, met.

        Also whether the target was used in the fit (a back-test leaves some out).
        """
        rows = []
        for r in self.fit_rows_:
            t = r.target
            observed = (f"{t.low:g}-{t.high:g}" if t.kind == "range"
                        else f"> {t.value:g}" if t.kind == "lower_bound" else f"{t.value:g}")
            rows.append({"target": r.name, "metric": t.metric, "form": t.form or "",
                         "years": t.years, "kind": t.kind, "observed": observed, "sd": t.sd,
                         "model": round(r.model, 4), "model_lo": round(r.lo, 4),
                         "model_hi": round(r.hi, 4), "residual": round(r.residual, 3),
                         "met": abs(r.residual) <= 1.0, "in_fit": r.name not in self.exclude})
        return pd.DataFrame(rows)

    def identifiability_table(self, scenario: Scenario) -> pd.DataFrame:
        """Which parameters the targets determine and which they leave free.

        Knobs: posterior sd relative to the prior sd (log scale): below 0.3 the
        targets determine the knob, 0.3-0.8 partly, above 0.8 they leave it free
        (it stays near its starting value). Declared unknowns are never fitted.
        """
        rows = []
        for k, v, sd in zip(self.knobs, self.values_, self.log_sd_, strict=True):
            ratio = sd / self.prior_sd
            status = ("determined" if ratio < 0.3 else "partly determined" if ratio < 0.8
                      else "free (prior only)")
            rows.append({"parameter": k.name, "value": round(float(v), 6),
                         "lo90": round(float(v * np.exp(-1.645 * sd)), 6),
                         "hi90": round(float(v * np.exp(1.645 * sd)), 6),
                         "posterior_to_prior_sd": round(float(ratio), 3), "status": status,
                         "basis": "fitted to the targets"})
        for name, entry in scenario.unknowns.items():
            rows.append({"parameter": name, "value": entry.central, "lo90": entry.low,
                         "hi90": entry.high, "posterior_to_prior_sd": float("nan"),
                         "status": "free (declared unknown)", "basis": entry.note})
        return pd.DataFrame(rows)

    def calibrated_entries(self) -> dict[str, dict]:
        """The calibrated parameters' entries (value, by_form, trend).

        What ``calibration/parameters.toml`` commits.
        """
        doc = self.scenario_.model_dump(mode="json", exclude_none=True)
        out = {}
        for k in self.knobs:
            entry = doc["parameters"][k.parameter]
            out[k.parameter] = {key: entry[key] for key in ("value", "by_form", "trend")
                                if entry.get(key) is not None}
        return out


def forms_sum_check(entries: dict[str, dict]) -> float:
    """Sum of the calibrated inflow form shares (1 up to rounding)."""
    shares = entries.get("inflow_form_share", {}).get("by_form", {})
    return float(sum(shares.get(f, 0.0) for f in FORMS))

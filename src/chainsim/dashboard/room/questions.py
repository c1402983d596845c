"""The room's questions: the shipped set (``questions.toml``) and ones built on the spot.

A question is one round: what participants are asked (a number, a direction with a
confidence, or a policy package within a budget), and the simulation that answers it (a
shipped scenario as preset, lever positions on top, the proxy). The simulation is
described by :class:`chainsim.dashboard.levers.Settings`, the dashboard's own lever model,
so the room cannot run anything the dashboard could not.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from chainsim.analysis.proxies import PROXIES
from chainsim.dashboard.levers import LEVER_BY_KEY, Levers, Settings, shipped_presets

QUESTIONS_FILE = Path(__file__).with_name("questions.toml")
"""The shipped questions (referenced from ``docs/workshop.md``)."""

KINDS: tuple[str, ...] = ("number", "direction", "package")
"""Round kinds: predict a number, a direction with confidence, or assemble a package."""

DIRECTIONS: tuple[str, ...] = ("down", "same", "up")
"""Answers of a direction round."""

_ID = re.compile(r"^[A-Za-z0-9_]{1,40}$")


@dataclass(frozen=True)
class Question:
    """One round's question.

    Attributes:
        id: Short name (letters, digits, ``_``).
        kind: One of :data:`KINDS`.
        proxy: The proxy asked about (:data:`chainsim.analysis.proxies.PROXIES`).
        en: The question in English.
        nl: The question in Dutch.
        preset: Shipped scenario file the simulation starts from.
        levers: Lever positions on top of the preset (name, value).
        rank: Package rounds: proxies the packages are ranked on (the first decides).
        budget: Package rounds: extra cost per year allowed.
    """

    id: str
    kind: str
    proxy: str
    en: str
    nl: str
    preset: str = "baseline.toml"
    levers: tuple[tuple[str, float], ...] = ()
    rank: tuple[str, ...] = field(default=())
    budget: float = 0.0

    def text(self, lang: str) -> str:
        """The question in ``lang`` (``en`` or ``nl``)."""
        return self.nl if lang == "nl" else self.en

    def settings(self) -> Settings:
        """The dashboard settings of the question's scenario."""
        return Settings(preset=self.preset, levers=Levers(**dict(self.levers)))

    def simulation_key(self) -> tuple:
        """What the simulated result depends on (rounds with equal keys share it)."""
        return (self.kind, self.preset, self.levers, self.rank or (self.proxy,))


def is_percent(proxy: str) -> bool:
    """Whether a proxy is a share shown in percent (the recidivism proxies)."""
    return proxy.startswith("recid_")


def scale(proxy: str) -> float:
    """Factor from the proxy's value to what participants type (100 for shares)."""
    return 100.0 if is_percent(proxy) else 1.0


def check(question: Question) -> Question:
    """Validate a question.

    Raises:
        ValueError: Naming the question and the field at fault.
    """
    where = f"question {question.id!r}"
    if not _ID.match(question.id):
        raise ValueError(f"{where}: id must be 1-40 letters, digits or '_'")
    if question.kind not in KINDS:
        raise ValueError(f"{where}: kind must be one of {', '.join(KINDS)}")
    for proxy in (question.proxy, *question.rank):
        if proxy not in PROXIES:
            raise ValueError(f"{where}: {proxy!r} is not a proxy ({', '.join(PROXIES)})")
    if question.preset not in shipped_presets():
        raise ValueError(f"{where}: preset {question.preset!r} is not a shipped scenario")
    for key, value in question.levers:
        spec = LEVER_BY_KEY.get(key)
        if spec is None:
            raise ValueError(f"{where}: {key!r} is not a lever ({', '.join(LEVER_BY_KEY)})")
        if not spec.low <= value <= spec.high:
            raise ValueError(f"{where}: lever {key} = {value} is outside "
                             f"{spec.low}..{spec.high}")
    if question.kind == "package" and (question.budget <= 0 or not question.rank):
        raise ValueError(f"{where}: a package round needs a budget > 0 and rank proxies")
    if not question.en.strip() or not question.nl.strip():
        raise ValueError(f"{where}: the question needs an English and a Dutch text")
    return question


def load_questions(path: Path = QUESTIONS_FILE) -> list[Question]:
    """Read and validate a questions file (``[[question]]`` tables).

    Raises:
        ValueError: If a question is invalid or two share an id.
    """
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    out: list[Question] = []
    for entry in doc.get("question", []):
        entry = dict(entry)
        levers = tuple(sorted((str(k), float(v)) for k, v in entry.pop("levers", {}).items()))
        rank = tuple(entry.pop("rank", ()))
        budget = float(entry.pop("budget", 0.0))
        try:
            question = Question(**entry, levers=levers, rank=rank, budget=budget)
        except TypeError as exc:
            raise ValueError(f"{path}: {exc}") from None
        out.append(check(question))
    ids = [q.id for q in out]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: question ids must be unique")
    return out


PACKAGE_RANK: tuple[str, ...] = ("victim_months", "recid_observed_general_2y",
                                  "probation_caseload")
"""Proxies shown beside the chosen one when a package round is built on the spot."""

MAX_BUDGET = 1e10
"""Largest budget a built package round accepts."""


def custom_question(preset: str, proxy: str, kind: str, number: int,
                    budget: float = 3e6) -> Question:
    """A question the facilitator builds from a shipped scenario and a proxy.

    Args:
        preset: Shipped scenario file name.
        proxy: The proxy (package rounds: the one the packages are ranked on).
        kind: ``number``, ``direction`` or ``package``.
        number: A running number for the id.
        budget: Package rounds: extra cost per year allowed.

    Raises:
        ValueError: If the scenario, proxy, kind or budget is not allowed.
    """
    name = preset.removesuffix(".toml")
    if kind == "package":
        if not 0 < budget <= MAX_BUDGET:
            raise ValueError(f"a budget is more than 0 and at most {MAX_BUDGET:g}")
        rank = (proxy, *[p for p in PACKAGE_RANK if p != proxy])[:3]
        return check(Question(
            id=f"custom_{number}", kind=kind, proxy=proxy, preset=preset, rank=rank,
            budget=budget,
            en=f"Scenario {name}: put together a package within the budget that does best "
               "on {proxy} (the lowest).",
            nl=f"Scenario {name}: stel binnen het budget een pakket samen dat het best scoort "
               "op {proxy} (de laagste)."))
    if kind not in ("number", "direction"):
        raise ValueError("a built question is a number, a direction or a package round")
    return check(Question(
        id=f"custom_{number}", kind=kind, proxy=proxy, preset=preset,
        en=f"Scenario {name}: {'what value' if kind == 'number' else 'which direction'} "
           f"for {{proxy}}?",
        nl=f"Scenario {name}: {'welke waarde' if kind == 'number' else 'welke richting'} "
           f"voor {{proxy}}?"))

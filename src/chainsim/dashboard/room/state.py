"""The room's state: participants, rounds and answers, in one thread-safe object.

Every change goes through a method of :class:`Room` under one lock and raises
:attr:`Room.version`; changes that every participant's page shows (a round starts, is
locked, revealed or computed; someone is removed; a new code) also raise
:attr:`Room.stage`. The facilitator's page long-polls on the version, participants' pages
on the stage, so a change reaches every open page within a poll tick, and thirty answers
coming in do not wake thirty phones thirty times. Nothing here knows about
HTTP or HTML.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass, field

from chainsim.dashboard.room.compute import PackageResult, RoundResult
from chainsim.dashboard.room.package import estimate
from chainsim.dashboard.room.questions import DIRECTIONS, Question

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Room-code letters: no 0/O or 1/I, easy to read off a projector and type on a phone."""
CODE_LENGTH = 6
"""Room-code length: 32**6, about 10**9 codes (guessing is also rate-limited)."""
NAME_LENGTH = 40
"""Longest display name kept."""
MAX_PARTICIPANTS = 300
"""A room refuses joins beyond this (a guard against a flood of joins)."""
PHASES: tuple[str, ...] = ("open", "locked", "revealed")
"""A round's phases, in order."""
MAX_ABS_ANSWER = 1e9
"""Largest number accepted as a prediction."""


def new_code() -> str:
    """A fresh random room code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """A typed code as the room compares it: upper case, spaces and dashes dropped."""
    return "".join(c for c in text.upper() if c not in " -\t")[:32]


def clean_name(text: str) -> str:
    """A display name: control characters removed, whitespace collapsed, length capped."""
    kept = "".join(c for c in text if unicodedata.category(c)[0] != "C")
    return " ".join(kept.split())[:NAME_LENGTH]


@dataclass
class Participant:
    """Someone in the room.

    Attributes:
        pid: Public id (roster, forms, export); not a secret.
        token: The participant's secret (their cookie).
        name: Display name ("" = anonymous).
        lang: ``en`` or ``nl``.
        joined: When they joined (epoch seconds).
        last_action: Their last join or answer.
        last_seen: Their page's last request (polls count).
        removed: Removed by the facilitator.
        number: Join order (for "Anonymous 3").
    """

    pid: str
    token: str
    name: str
    lang: str
    joined: float
    last_action: float
    last_seen: float
    number: int
    removed: bool = False

    def label(self, anonymous: str = "Anonymous") -> str:
        """The name shown, or "Anonymous N"."""
        return self.name or f"{anonymous} {self.number}"


@dataclass
class Answer:
    """One participant's answer in one round.

    Attributes:
        value: A number round's prediction (in the units shown).
        direction: A direction round's ``down``/``same``/``up``.
        confidence: Confidence in the direction, 50-100 (%).
        package: A package round's lever positions (name, value).
        at: When it was (last) given.
    """

    value: float | None = None
    direction: str | None = None
    confidence: int | None = None
    package: tuple[tuple[str, float], ...] | None = None
    at: float = 0.0


@dataclass
class Round:
    """One round.

    Attributes:
        number: 1, 2, ...
        question: The question.
        phase: ``open`` (answers accepted), ``locked``, ``revealed``.
        answers: By participant id.
        started: When it opened.
        result: The simulated result, once computed.
        error: Why the computation failed, if it did.
        prices: Package rounds: each lever position's extra cost per year, once computed.
        packages: Package rounds: the simulated packages, by package key.
    """

    number: int
    question: Question
    phase: str = "open"
    answers: dict[str, Answer] = field(default_factory=dict)
    started: float = 0.0
    result: RoundResult | None = None
    error: str | None = None
    prices: dict[str, float] | None = None
    packages: dict[str, PackageResult] = field(default_factory=dict)


class RoomError(ValueError):
    """An action that the room's state does not allow (the message is a catalogue key)."""


class Room:
    """The room: one per server.

    Args:
        code: The participant code (random by default).
        secret: The facilitator's secret (random by default).
        clock: Time source (tests).
    """

    def __init__(self, code: str | None = None, secret: str | None = None, clock=time.time):
        self.code = code or new_code()
        self.secret = secret or secrets.token_urlsafe(24)
        self._clock = clock
        self._lock = threading.RLock()
        self.version = 0
        self.stage = 0
        self.participants: dict[str, Participant] = {}  # by pid
        self._by_token: dict[str, Participant] = {}
        self.rounds: list[Round] = []
        self.facilitator_lang = "en"

    # -- internals ---------------------------------------------------------------------
    def _bump(self, stage: bool = False) -> None:
        self.version += 1
        if stage:
            self.stage += 1

    @property
    def lock(self) -> threading.RLock:
        """The room's lock (hold it to read several fields consistently)."""
        return self._lock

    @property
    def current(self) -> Round | None:
        """The latest round, if any (it may be revealed: the room waits for "next")."""
        return self.rounds[-1] if self.rounds else None

    # -- participants ------------------------------------------------------------------
    def check_code(self, typed: str) -> bool:
        """Whether a typed code is the room's (constant-time comparison)."""
        return secrets.compare_digest(normalise_code(typed).encode(), self.code.encode())

    def join(self, name: str, lang: str) -> Participant:
        """Add a participant (the caller has checked the code).

        Raises:
            RoomError: ``room_full`` beyond :data:`MAX_PARTICIPANTS`.
        """
        with self._lock:
            if sum(not p.removed for p in self.participants.values()) >= MAX_PARTICIPANTS:
                raise RoomError("room_full")
            now = self._clock()
            pid = secrets.token_hex(4)
            while pid in self.participants:
                pid = secrets.token_hex(4)
            p = Participant(pid=pid, token=secrets.token_urlsafe(24), name=clean_name(name),
                            lang=lang if lang in ("en", "nl") else "en", joined=now,
                            last_action=now, last_seen=now, number=len(self.participants) + 1)
            self.participants[pid] = p
            self._by_token[p.token] = p
            self._bump()
            return p

    def by_token(self, token: str | None, touch: bool = True) -> Participant | None:
        """The participant with this secret, unless unknown or removed."""
        if not token:
            return None
        with self._lock:
            p = self._by_token.get(token)
            if p is None or p.removed:
                return None
            if touch:
                p.last_seen = self._clock()
            return p

    def was_removed(self, token: str | None) -> bool:
        """Whether this secret belonged to a participant the facilitator removed."""
        with self._lock:
            p = self._by_token.get(token or "")
            return p is not None and p.removed

    def remove(self, pid: str) -> None:
        """Remove a participant: their page stops working and their answers no longer count."""
        with self._lock:
            p = self.participants.get(pid)
            if p is not None and not p.removed:
                p.removed = True
                self._bump(stage=True)

    def set_lang(self, p: Participant, lang: str) -> None:
        """A participant's language."""
        with self._lock:
            if lang in ("en", "nl"):
                p.lang = lang
                self._bump()

    def new_code(self) -> str:
        """Replace the room code (who is in stays in; new joins need the new code)."""
        with self._lock:
            self.code = new_code()
            self._bump(stage=True)
            return self.code

    def active(self) -> list[Participant]:
        """Participants not removed, in join order."""
        with self._lock:
            return [p for p in self.participants.values() if not p.removed]

    # -- rounds ------------------------------------------------------------------------
    def start(self, question: Question) -> Round:
        """Open a new round (the previous one, if any, must be revealed or is closed)."""
        with self._lock:
            r = Round(number=len(self.rounds) + 1, question=question, started=self._clock())
            self.rounds.append(r)
            self._bump(stage=True)
            return r

    def answer(self, p: Participant, answer: Answer) -> None:
        """Record (or replace) a participant's answer in the open round.

        Raises:
            RoomError: ``not_open`` when no round accepts answers, ``bad_answer`` when the
                answer does not fit the round.
        """
        with self._lock:
            r = self.current
            if r is None or r.phase != "open":
                raise RoomError("not_open")
            kind = r.question.kind
            if kind == "number":
                ok = (answer.value is not None and math.isfinite(answer.value)
                      and abs(answer.value) <= MAX_ABS_ANSWER)
            elif kind == "direction":
                ok = (answer.direction in DIRECTIONS and answer.confidence is not None
                      and 50 <= answer.confidence <= 100)
            else:
                ok = answer.package is not None and r.prices is not None
                if ok and estimate(answer.package, r.prices) > r.question.budget:
                    raise RoomError("over_budget")
            if not ok:
                raise RoomError("bad_answer")
            now = self._clock()
            answer.at = now
            r.answers[p.pid] = answer
            p.last_action = now
            self._bump()

    def set_phase(self, number: int, phase: str) -> None:
        """Move a round forward: ``open`` -> ``locked`` -> ``revealed`` (no going back).

        Raises:
            RoomError: ``bad_phase`` if ``number`` is not the current round or the move
                goes backwards.
        """
        with self._lock:
            r = self.current
            if (r is None or r.number != number or phase not in PHASES
                    or PHASES.index(phase) <= PHASES.index(r.phase)):
                raise RoomError("bad_phase")
            r.phase = phase
            self._bump(stage=True)

    def set_result(self, number: int, result: RoundResult | None, error: str | None) -> None:
        """Store a round's computed result (or the error)."""
        with self._lock:
            for r in self.rounds:
                if r.number == number:
                    r.result, r.error = result, error
            self._bump(stage=True)

    def set_prices(self, number: int, prices: dict[str, float] | None,
                   error: str | None) -> None:
        """Store a package round's price list (or the error)."""
        with self._lock:
            for r in self.rounds:
                if r.number == number:
                    r.prices = prices
                    r.error = error or r.error
            self._bump(stage=True)

    def set_package(self, key: str, result: PackageResult) -> None:
        """Store a simulated package in every round that has a package with this key."""
        with self._lock:
            for r in self.rounds:
                if r.question.kind == "package":
                    r.packages[key] = result
            self._bump(stage=True)

    def counted(self, r: Round) -> dict[str, Answer]:
        """A round's answers from participants still in the room."""
        with self._lock:
            return {pid: a for pid, a in r.answers.items()
                    if pid in self.participants and not self.participants[pid].removed}

    def answered(self) -> tuple[int, int]:
        """(answered, in the room) for the current round."""
        with self._lock:
            r = self.current
            return (len(self.counted(r)) if r else 0), len(self.active())

    def touch(self) -> float:
        """The room's clock now."""
        return self._clock()

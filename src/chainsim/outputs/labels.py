"""Human labels, units and number formats for the report and the command line's tables.

One table (:data:`LABELS`) turns every internal key a report or a CLI table shows — a
proxy (``recid_observed_general_2y``), a chain flow (``before_judge_share``), an offender-
mix share, a form of exploitation — into words a reader understands, with the unit its
number is in. Nothing on a user surface should print the key itself.

Each entry holds the English text now and a slot for Dutch (``nl``, ``unit_nl``); a
missing Dutch text falls back to English (:func:`text`), and :func:`untranslated` lists
what is still missing, so the Dutch catalogue can be filled in one place. The chain's
flows take both languages from the chain table (:data:`chainsim.chain.FLOW_METRICS`),
not from a second copy.

The dashboard keeps its own catalogue (``chainsim.dashboard.i18n``): the layer contract
keeps the dashboard and the outputs apart, so neither can import the other's. The
proxies' Dutch words below are the dashboard's, to keep the two in step.

Numbers go through :mod:`chainsim.chain.numbers`: :func:`level` writes a level (a share
as a percentage), :func:`change` a difference (a share's in percentage points) and
:func:`relative` a difference as a percentage of the baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from chainsim import chain
from chainsim.chain.numbers import (
    decimals_for,
    format_number,
    format_percent,
    format_points,
    format_relative,
    format_signed,
)

Kind = Literal["share", "count"]


@dataclass(frozen=True)
class Label:
    """What a key means to a reader.

    Attributes:
        en: English name, without the unit (``"observed general recidivism within 2 years"``).
        unit_en: English unit phrase (``"% of released or sanctioned offenders"``,
            ``"per year"``).
        kind: ``share`` (a fraction 0-1 shown as a percentage, its differences in
            percentage points) or ``count`` (any other number, in its natural unit).
        nl: Dutch name (``None``: not translated yet; English is shown).
        unit_nl: Dutch unit phrase.
        short_en: A short English name for narrow places (figure rows, CLI columns).
    """

    en: str
    unit_en: str
    kind: Kind = "count"
    nl: str | None = None
    unit_nl: str | None = None
    short_en: str | None = None


_RECID_KIND = {
    "observed_general": ("observed general recidivism", "geregistreerde algemene recidive"),
    "observed_specific": ("observed trafficking recidivism",
                          "geregistreerde specifieke recidive"),
    "true": ("true reoffending (model only)", "werkelijke recidive (alleen model)"),
}
_RECID_UNIT = ("% of released or sanctioned offenders",
               "% van de vrijgelaten of gestrafte daders")


def _recidivism() -> dict[str, Label]:
    out = {}
    for kind, (en, nl) in _RECID_KIND.items():
        for years in (2, 5, 7):
            short = en.replace(" (model only)", "")
            label = Label(f"{en} within {years} years", _RECID_UNIT[0], "share",
                          f"{nl} binnen {years} jaar", _RECID_UNIT[1],
                          short_en=f"{short}, {years} years")
            out[f"recid_{kind}_{years}y"] = label
            out[f"{kind}_{years}y"] = label  # the validation targets' proxy names
    return out


PROXY_LABELS: dict[str, Label] = {
    **{k: v for k, v in _recidivism().items() if k.startswith("recid_")},
    "active_offender_months": Label(
        "offender-months of trafficking", "per year", nl="dadermaanden mensenhandel",
        unit_nl="per jaar", short_en="offender-months"),
    "victim_months": Label("victim-months", "per year", nl="slachtoffermaanden",
                           unit_nl="per jaar"),
    "prison_months_served": Label(
        "months in custody (prison, pre-trial detention, recall)", "per year",
        nl="detentiemaanden (straf, voorlopige hechtenis, herroeping)", unit_nl="per jaar",
        short_en="months in custody"),
    "probation_caseload": Label(
        "people under probation supervision", "on an average day",
        nl="personen onder reclasseringstoezicht", unit_nl="op een gemiddelde dag",
        short_en="under supervision"),
    "court_cases": Label("court cases (summonses and appeals)", "per year",
                         nl="zaken voor de rechter (dagvaardingen en hoger beroep)",
                         unit_nl="per jaar", short_en="court cases"),
    "investigations": Label("police investigations started", "per year",
                            nl="gestarte opsporingsonderzoeken", unit_nl="per jaar",
                            short_en="investigations"),
    "cost_per_year": Label("cost of the chain's work", "per year, in the cost file's currency",
                           nl="kosten van het werk in de keten",
                           unit_nl="per jaar, in de valuta van het kostenbestand",
                           short_en="cost"),
}
"""The comparison's proxies (:data:`chainsim.analysis.proxies.PROXIES`, and costs)."""

FLOW_LABELS: dict[str, Label] = {
    **{m.name: Label(m.en, "per year", nl=m.nl, unit_nl="per jaar")
       for m in chain.FLOW_METRICS},
    "prison_months": Label("mean prison sentence", "months", nl="gemiddelde vrijheidsstraf",
                           unit_nl="maanden"),
    "technical_dismissal_share": Label(
        "technical dismissals (technisch sepot)", "% of OM decisions", "share",
        nl="technisch sepot", unit_nl="% van de OM-beslissingen"),
    "before_judge_share": Label(
        "traced suspects who come before a judge", "% of traced suspects", "share",
        nl="opgespoorde verdachten die voor de rechter komen",
        unit_nl="% van de opgespoorde verdachten"),
}
"""The chain's yearly flows and derived figures (:data:`chainsim.analysis.flows.METRICS`)."""

FORM_LABELS: dict[str, Label] = {
    "domestic_sexual": Label("domestic sexual exploitation", "",
                             nl="binnenlandse seksuele uitbuiting"),
    "cross_border_sexual": Label("cross-border sexual exploitation", "",
                                 nl="grensoverschrijdende seksuele uitbuiting"),
    "labour": Label("labour exploitation", "", nl="arbeidsuitbuiting"),
    "criminal": Label("criminal exploitation", "", nl="criminele uitbuiting"),
    "other": Label("other or unknown forms", "", nl="overige of onbekende vormen"),
}
"""The forms of exploitation (:data:`chainsim.chain.spec.FORMS`)."""

GROUP_LABELS: dict[str, Label] = {
    "under23": Label("offenders under 23", "", nl="daders jonger dan 23"),
    "23plus": Label("offenders aged 23 or over", "", nl="daders van 23 jaar of ouder"),
    "male": Label("men", "", nl="mannen"),
    "female": Label("women", "", nl="vrouwen"),
    "supervised": Label("offenders under supervision", "", nl="daders onder toezicht"),
    "unsupervised": Label("offenders not under supervision", "",
                          nl="daders niet onder toezicht"),
}
"""Age groups, sexes and supervision status, as an intervention's target names them."""

MIX_LABELS: dict[str, Label] = {
    **{f"form_{form}": Label(label.en, "% of offenders registered at the OM", "share",
                             nl=label.nl, unit_nl="% van de bij het OM ingeschreven daders")
       for form, label in FORM_LABELS.items()},
    "under23_domestic_sexual": Label(
        "under 23 among domestic sexual exploitation offenders",
        "% of those registered at the OM", "share",
        nl="jonger dan 23 onder de daders van binnenlandse seksuele uitbuiting",
        unit_nl="% van de bij het OM ingeschrevenen"),
    "under23_criminal": Label("under 23 among criminal exploitation offenders",
                              "% of those registered at the OM", "share",
                              nl="jonger dan 23 onder de daders van criminele uitbuiting",
                              unit_nl="% van de bij het OM ingeschrevenen"),
    "female": Label("women", "% of offenders registered at the OM", "share", nl="vrouwen",
                    unit_nl="% van de bij het OM ingeschreven daders"),
}
"""The offender mix at the OM (:data:`chainsim.analysis.flows.SHARES`)."""

LABELS: dict[str, Label] = {**FLOW_LABELS, **MIX_LABELS, **PROXY_LABELS,
                            **{k: v for k, v in _recidivism().items()
                               if not k.startswith("recid_")}}
"""Every key a report or CLI table shows, with its words and unit (forms and groups:
:data:`FORM_LABELS`, :data:`GROUP_LABELS`)."""


def _entry(key: str) -> Label:
    try:
        return LABELS[key]
    except KeyError:
        raise KeyError(f"no human label for {key!r}: add it to chainsim.outputs.labels") from None


def text(key: str, lang: str = "en") -> str:
    """The name of ``key`` (without its unit) in ``lang``; English where Dutch is missing."""
    label = _entry(key)
    return (label.nl or label.en) if lang == "nl" else label.en


def short(key: str) -> str:
    """A short English name for narrow places (figure rows, table columns)."""
    label = _entry(key)
    return label.short_en or label.en


def unit(key: str, lang: str = "en") -> str:
    """The unit phrase of ``key`` (``"per year"``, ``"% of OM decisions"``)."""
    label = _entry(key)
    return (label.unit_nl or label.unit_en) if lang == "nl" else label.unit_en


def titled(key: str, lang: str = "en") -> str:
    """Name and unit: ``"offender-months of trafficking (per year)"``."""
    u = unit(key, lang)
    return f"{text(key, lang)} ({u})" if u else text(key, lang)


def is_share(key: str) -> bool:
    """Whether ``key`` is a share (percent levels, percentage-point differences)."""
    return _entry(key).kind == "share"


def untranslated() -> list[str]:
    """The keys whose name or unit has no Dutch text yet."""
    every = {**LABELS, **{f"form:{k}": v for k, v in FORM_LABELS.items()},
             **{f"group:{k}": v for k, v in GROUP_LABELS.items()}}
    return [k for k, v in every.items() if v.nl is None or (v.unit_en and v.unit_nl is None)]


def row_decimals(key: str, values: Sequence[float | None]) -> int:
    """Decimals that show a row of numbers of ``key`` alike (a change and its interval).

    Shares in percentage points: two significant digits of the largest, at most two
    decimals. Other numbers: three significant digits, at most two decimals.
    """
    finite = [abs(v) for v in values if v is not None and v == v]
    largest = max(finite, default=0.0)
    if is_share(key):
        return decimals_for(100.0 * largest, digits=2, most=2) if largest else 1
    return decimals_for(largest, digits=3, most=2)


def level(key: str, value: float | None, lang: str = "en") -> str:
    """A level of ``key``: a share as ``"50.7 %"``, a count as ``"41,010"``."""
    if value is None or value != value:
        return "–"
    if is_share(key):
        return format_percent(value, lang, decimals=1 if abs(value) >= 0.01 else 2)
    return format_number(value, lang)


def change(key: str, value: float | None, lang: str = "en", decimals: int | None = None,
           unit_text: bool = True) -> str:
    """A signed difference of ``key``: ``"−2.8 pp"`` for a share, ``"−1,167"`` for a count.

    Args:
        key: What changed.
        value: The difference (scenario minus baseline), in the level's unit.
        lang: ``"en"`` or ``"nl"``.
        decimals: Fixed decimals (:func:`row_decimals` for a row); default by size.
        unit_text: Append ``pp`` to a share's difference.
    """
    if value is None or value != value:
        return "–"
    places = row_decimals(key, [value]) if decimals is None else decimals
    if is_share(key):
        text_ = format_points(value, lang, decimals=places)
        return text_ if unit_text else text_.rsplit(" ", 1)[0]
    return format_signed(value, lang, decimals=places)


def interval(key: str, lo: float | None, hi: float | None, lang: str = "en",
             decimals: int | None = None) -> str:
    """An interval of a difference: ``"−3.2 to −2.4 pp"`` or ``"−1,206 to −1,128"``."""
    if lo is None or hi is None:
        return "–"
    places = row_decimals(key, [lo, hi]) if decimals is None else decimals
    word = "tot" if lang == "nl" else "to"
    suffix = " pp" if is_share(key) else ""
    return (f"{change(key, lo, lang, places, unit_text=False)} {word} "
            f"{change(key, hi, lang, places, unit_text=False)}{suffix}")


def relative(value: float | None, base: float | None, lang: str = "en") -> str:
    """A difference as a percentage of the baseline level (``"−2.8 %"``)."""
    return format_relative(value, base, lang)


def excludes_zero(lo: float | None, hi: float | None) -> bool:
    """Whether an interval lies wholly on one side of zero (a detectable change)."""
    return lo is not None and hi is not None and (lo > 0 or hi < 0)


def scenario_title(name: str) -> str:
    """A scenario's name as a reader sees it: ``more_probation`` → ``more probation``."""
    return name.replace("_", " ")

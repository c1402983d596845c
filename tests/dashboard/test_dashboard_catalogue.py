"""Every visible string comes from the EN/NL catalogue: completeness, and no leaks on the page.

Two kinds of test. The catalogue tests check that every key the dashboard asks for
exists, that every event, attribute value, unknown, shipped scenario and parameter a
view can show has a label, and that labels are translated (not copied) with the
same placeholders. The page tests render every view with ``solara.render`` in both
languages, in a state that shows as much as possible (levers moved, the unknowns
open, an offender's life history, a comparison, guesses, a bad guess), collect
every text a reader can see, and fail on an internal identifier, an English-only
catalogue text in Dutch, or a number written in the other language's convention.
"""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from pathlib import Path

import ipyvuetify as v
import ipywidgets
import pytest
import solara
import solara.widgets

from chainsim import chain
from chainsim.chain import spec
from chainsim.chain.config import load_scenario
from chainsim.dashboard import i18n, views
from chainsim.dashboard.app import Page
from chainsim.dashboard.i18n import LABELS, SAME_IN_BOTH, t
from chainsim.dashboard.levers import LEVERS, SCENARIO_DIR, load_preset, shipped_presets
from chainsim.dashboard.state import VIEWS
from chainsim.dashboard.widgets import ClickableSvgWidget

SOURCES = Path(i18n.__file__).parent
PLACEHOLDER = re.compile(r"{(\w*)[^}]*}")


# ------------------------------------------------------------------- the catalogue


def _keys_asked_for() -> set[str]:
    """Literal keys passed to ``t(...)`` anywhere in the dashboard (not the room)."""
    keys = set()
    for path in SOURCES.glob("*.py"):
        keys |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_]+)["']""", path.read_text()))
    return keys


def test_every_key_the_dashboard_asks_for_exists():
    missing = sorted(k for k in _keys_asked_for() if k not in LABELS)
    assert not missing, f"keys without a label: {missing}"


def test_every_label_is_translated_with_the_same_placeholders():
    for key, (en, nl) in LABELS.items():
        assert en.strip() and nl.strip(), key
        if key not in SAME_IN_BOTH:
            assert en != nl, f"{key!r} is not translated: {en!r}"
        assert sorted(PLACEHOLDER.findall(en)) == sorted(PLACEHOLDER.findall(nl)), key


def test_same_in_both_only_lists_keys_that_are_the_same():
    for key in SAME_IN_BOTH:
        en, nl = LABELS[key]
        assert en == nl, key


def test_everything_a_view_can_show_has_a_label():
    wanted = [f"event_{e}" for e in spec.EVENT_NAMES]
    wanted += [f"stage_{s.name}" for s in chain.STAGES]
    wanted += [f"form_{f}" for f in spec.FORMS] + [f"sex_{x}" for x in spec.SEXES]
    wanted += [f"age_{a}" for a in spec.AGE_GROUPS]
    wanted += list(views.FLOW_METRICS) + list(views.DELTA_PROXIES) + list(views.PREDICT_PROXIES)
    wanted += [f"lever_{lv.key}" for lv in LEVERS] + [f"short_{lv.key}" for lv in LEVERS]
    wanted += [f"tab_{view}" for view in VIEWS]
    baseline = load_preset("baseline.toml")
    wanted += [f"unknown_{name}" for name in baseline.unknowns]
    wanted += [f"unit_{spec.PARAMETERS[name].kind}" for name in baseline.unknowns]
    for preset in shipped_presets():
        wanted.append(f"preset_{preset.removesuffix('.toml')}")
        for iv in load_preset(preset).interventions:
            wanted += [f"param_{iv.parameter}", f"iv_{iv.operation}"]
    missing = sorted({k for k in wanted if k not in LABELS})
    assert not missing, f"no label for: {missing}"


def test_every_shipped_scenario_has_a_dutch_description():
    for path in sorted(SCENARIO_DIR.glob("*.toml")):
        sc = load_scenario(path)
        assert sc.scenario.description_nl, path.name
        assert views.scenario_description(sc, "nl") == sc.scenario.description_nl
        assert views.scenario_description(sc, "en") == sc.scenario.description


def test_interventions_read_as_words_in_both_languages():
    preset = load_preset("youth_resocialisation.toml")
    en = [views.describe_intervention(iv, "en") for iv in preset.interventions]
    nl = [views.describe_intervention(iv, "nl") for iv in preset.interventions]
    assert en[0] == ("supervision after prison: 70 % from 2021-01 (phased in over 24 months; "
                     "only under 23)")
    assert nl[0] == ("toezicht na vrijheidsstraf: 70 % vanaf 2021-01 (ingevoerd over 24 "
                     "maanden; alleen jonger dan 23)")
    assert "× 0,7" in nl[1] and "aannemelijk 0,5 tot 0,95" in nl[1] and "onder toezicht" in nl[1]


def test_add_labels_keeps_the_catalogue_consistent():
    i18n.add_labels({"test_only_key": ("a test", "een test")})
    try:
        assert t("test_only_key", "nl") == "een test"
        with pytest.raises(ValueError):
            i18n.add_labels({"test_only_key": ("other", "ander")})
        with pytest.raises(ValueError):
            i18n.add_labels({"test_only_empty": ("text", " ")})
    finally:
        del LABELS["test_only_key"]


@pytest.mark.parametrize(("lang", "value", "text"), [
    ("en", 34165.8, "34,165.8"), ("nl", 34165.8, "34.165,8"), ("nl", 7.0, "7"),
    ("en", 1045, "1,045"), ("nl", 1045, "1.045"),
])
def test_numbers_in_the_readers_language(lang, value, text):
    assert i18n.num(value, lang, **({} if value == int(value) else {"decimals": 1})) == text


@pytest.mark.parametrize(("name", "value", "en", "nl"), [
    ("desistance_hazard", 0.012, "1.2 % per month", "1,2 % per maand"),
    ("inflow_rate", 600.0, "600 per year", "600 per jaar"),
    ("investigation_months", 6.0, "6 months", "6 maanden"),
    ("desistance_age_factor", 1.4, "× 1.4", "× 1,4"),
])
def test_unknowns_have_units(name, value, en, nl):
    assert i18n.unknown_value(name, value, "en") == en
    assert i18n.unknown_value(name, value, "nl") == nl


def test_an_unknowns_range_carries_its_unit_once():
    assert i18n.unknown_value("desistance_hazard", 0.006, "nl", 0.025) == "0,6 – 2,5 % per maand"
    assert i18n.unknown_value("inflow_rate", 300, "en", 1300) == "300 – 1,300 per year"


# ------------------------------------------------------------------------ the page


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.parts.append(data.strip())


def _html_text(markup: str) -> list[str]:
    parser = _Text()
    parser.feed(markup)
    return parser.parts


def visible_texts(root) -> list[str]:
    """Every text a reader can see in the widget tree (labels, options, HTML and SVG text)."""
    out: list[str] = []

    def walk(w) -> None:
        if isinstance(w, solara.widgets.HTML):
            out.extend(_html_text(w.unsafe_innerHTML or ""))
        if isinstance(w, ClickableSvgWidget):
            out.extend(_html_text(w.svg))
        for attr in ("label", "hint", "placeholder", "title"):
            value = getattr(w, attr, None)
            if isinstance(value, str) and value.strip():
                out.append(value.strip())
        if isinstance(w, v.Select):
            out.extend(str(i) for i in (w.items or []))
        for child in getattr(w, "children", None) or []:
            if isinstance(child, str):
                if child.strip():
                    out.append(child.strip())
            elif isinstance(child, ipywidgets.Widget):
                walk(child)

    walk(root)
    return out


IDENTIFIER = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b|\b(?:under23|23plus)\b")
ATTRIBUTE_WORDS = [*spec.FORMS, *spec.SEXES, *spec.AGE_GROUPS, *spec.EVENT_NAMES]


def _english_only_fragments() -> set[str]:
    """Pieces of English catalogue text (8+ characters) that no Dutch text contains."""
    dutch = " ".join(nl for _en, nl in LABELS.values())
    out = set()
    for key, (en, nl) in LABELS.items():
        if key in SAME_IN_BOTH or en == nl:
            continue
        for piece in PLACEHOLDER.split(en):
            piece = piece.strip(" :;,.()'")
            if len(piece) >= 8 and re.search("[a-z]{3}", piece) and piece not in dutch:
                out.add(piece)
    return out


def _wait(condition, seconds: float = 90.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def _html(rc, css_class: str) -> str:
    for w in rc.find(solara.widgets.HTML).widgets:
        if css_class in (w.attributes or {}).get("class", "").split() or (
                f'class="{css_class}"' in (w.unsafe_innerHTML or "")):
            return w.unsafe_innerHTML
    return ""


@pytest.fixture(scope="module")
def texts_by_language():
    """Visible texts of every view in both languages, with as much shown as possible."""
    box, rc = solara.render(Page(), handle_error=False)
    seen: dict[str, list[str]] = {"en": [], "nl": []}
    try:
        rc.find(v.Html, class_="lever-probation").find(v.Slider).widget.v_model = 0.8
        rc.find(v.Html, class_="lever-capacity").find(v.Slider).widget.v_model = 250.0
        rc.find(v.Btn, class_="btn-advanced").widget.click()
        tabs = rc.find(v.BtnToggle, class_="view-tabs").widget
        # an offender's life history
        rc.find(v.Btn, class_="btn-step").widget.click()
        tabs.v_model = "agents"
        widget = rc.find(ClickableSvgWidget).widget
        widget.vue_select(widget.svg.split('data-agent="')[1].split('"')[0])
        # a small comparison (the workshop's reveal uses the same)
        tabs.v_model = "compare"
        rc.find(v.Html, class_="reps-slider").find(v.Slider).widget.v_model = 5
        rc.find(v.Btn, class_="btn-compare").widget.click()
        _wait(lambda: "data-band" in _html(rc, "chart-bands"))
        _wait(lambda: not rc.find(v.Btn, class_="btn-compare").widget.disabled)
        time.sleep(0.5)  # let the comparison's thread finish before switching views
        for lang in ("en", "nl"):
            if lang == "nl":
                rc.find(v.Btn, class_="btn-language").widget.click()
            for view in VIEWS:
                tabs.v_model = view
                if view == "workshop":
                    guess = rc.find(v.TextField, class_="guess-input").widget
                    guess.v_model = "34.000; 12,5; veel" if lang == "nl" else "34,000; 12.5; lots"
                seen[lang] += visible_texts(box)
    finally:
        rc.close()
    return seen


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_no_internal_identifier_is_visible(texts_by_language, lang):
    page = texts_by_language[lang]
    assert len(page) > 100  # the views did render
    leaks = sorted({m for text in page for m in IDENTIFIER.findall(text)})
    assert not leaks, f"identifiers on the {lang} page: {leaks}"


def test_no_english_only_text_on_the_dutch_page(texts_by_language):
    page = "\n".join(texts_by_language["nl"])
    leaks = sorted(f for f in _english_only_fragments() if f in page)
    assert not leaks, f"English on the Dutch page: {leaks}"
    words = sorted({w for w in ATTRIBUTE_WORDS if re.search(rf"\b{re.escape(w)}\b", page)})
    assert not words, f"English attribute values on the Dutch page: {words}"


def test_numbers_follow_the_language(texts_by_language):
    nl, en = "\n".join(texts_by_language["nl"]), "\n".join(texts_by_language["en"])
    assert not re.findall(r"\d,\d{3}(?:\.\d|\b)", nl), "English thousands in Dutch"
    assert re.search(r"\d\.\d{3}\b", nl)  # Dutch thousands do appear (1.045, 34.000, ...)
    assert not re.findall(r"\d\.\d{3},\d", en), "Dutch thousands in English"
    assert not re.findall(r"\d+\.\d+\s?%", nl), "a decimal point in a Dutch percentage"


def test_the_guess_box_reads_dutch_thousands_and_names_what_is_not_a_number(texts_by_language):
    nl = "\n".join(texts_by_language["nl"])
    assert "Geen getal, weggelaten: veel" in nl
    en = "\n".join(texts_by_language["en"])
    assert "Not a number, left out: lots" in en

"""Labels (chainsim.dashboard.i18n)."""

from __future__ import annotations

import pytest

from chainsim.dashboard import views
from chainsim.dashboard.controls import lever_label
from chainsim.dashboard.i18n import LABELS, count_label, t
from chainsim.dashboard.levers import LEVERS


def test_every_label_has_both_languages():
    for key, (en, nl) in LABELS.items():
        assert en.strip() and nl.strip(), key


def test_dutch_labels_use_the_chain_terms():
    dutch = " ".join(nl for _, nl in LABELS.values()).lower()
    for term in ("signalering", "opsporing", "dagvaarding", "sepot", "veroordeling",
                 "vrijheidsstraf", "reclasseringstoezicht", "recidive"):
        assert term in dutch, term


def test_t_switches_language_and_formats():
    assert t("tab_chain", "en") == "Chain"
    assert t("tab_chain", "nl") == "Keten"
    assert t("more", "nl", n=3) == "+3 meer"
    assert t("no_such_key", "nl") == "no_such_key"


@pytest.mark.parametrize(("value", "text"), [
    (0, "<10"), (7.04, "<10"), (9.99, "<10"), (10, "10"), (145.2, "145"), (1045, "1,045"),
    (None, "–"), (float("nan"), "–"),
])
def test_counts_below_ten_beside_the_source(value, text):
    assert count_label(value) == text


def test_counts_below_ten_elsewhere_are_shown():
    assert count_label(7.0, beside_source=False) == "7"


def test_every_lever_unit_and_flow_metric_has_both_languages():
    keys = [f"lever_{spec.key}" for spec in LEVERS]
    keys += ["places", "no_limit", "per_year", *views.FLOW_METRICS, "probation_refused"]
    for key in keys:
        assert key in LABELS, key
        assert t(key, "en") != t(key, "nl"), key  # translated, not copied


@pytest.mark.parametrize(("lang", "limited", "unlimited"), [
    ("en", "10 places (scenario: no limit)", "no limit (scenario: 50 places)"),
    ("nl", "10 plaatsen (scenario: geen limiet)", "geen limiet (scenario: 50 plaatsen)"),
])
def test_places_lever_says_zero_means_no_limit(lang, limited, unlimited):
    assert lever_label("places", 10.0, {"places": 0.0}, lang).endswith(": " + limited)
    assert lever_label("places", 0.0, {"places": 50.0}, lang).endswith(": " + unlimited)
    name = t("lever_places", lang)
    assert ("0 = no limit" if lang == "en" else "0 = geen limiet") in name

"""Labels (chainsim.dashboard.i18n)."""

from __future__ import annotations

import pytest

from chainsim.dashboard.i18n import LABELS, count_label, t


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

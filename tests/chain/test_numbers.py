"""Numbers in the reader's language: formatting and parsing both ways."""

import math

import pytest

from chainsim.chain.numbers import (
    MINUS,
    format_number,
    format_percent,
    format_points,
    format_signed,
    parse_number,
)


def test_thousands_and_decimal_marks_follow_the_language():
    assert format_number(34165.8, "en", decimals=1) == "34,165.8"
    assert format_number(34165.8, "nl", decimals=1) == "34.165,8"


def test_never_minus_zero():
    for value in (-0.0, -1e-9, -0.0004):
        assert format_number(value, "en", decimals=1) in ("0", "0.0")
        assert not format_points(value / 100, "en").startswith(MINUS)


def test_significant_digits_by_default():
    assert format_number(34165.8) == "34,166"
    assert format_number(0.479) == "0.48"
    assert format_number(-3.84) == f"{MINUS}3.84"


def test_points_and_percent():
    assert format_points(-0.038) == f"{MINUS}3.8 pp"
    assert format_points(0.02, "nl", long=True) == "+2,0 procentpunt"
    assert format_percent(0.479, "nl") == "47,9 %"
    assert format_signed(5.0, "en", decimals=0) == "+5"
    assert format_number(float("nan")) == "–"


@pytest.mark.parametrize(("text", "lang", "value"), [
    ("34.000", "nl", 34000.0), ("34,000", "en", 34000.0), ("1.234,5", "nl", 1234.5),
    (f"{MINUS}3,5", "nl", -3.5), ("+12", "en", 12.0), (" 7 ", "en", 7.0)])
def test_parse_reads_the_reader_convention(text, lang, value):
    assert math.isclose(parse_number(text, lang), value)


@pytest.mark.parametrize("text", ["abc", "12.34.5", "", "nan"])
def test_parse_refuses_what_is_not_a_number(text):
    with pytest.raises(ValueError, match="not a"):
        parse_number(text, "nl")


def test_round_trip_in_both_languages():
    for lang in ("en", "nl"):
        for value in (0.5, 12.25, 34165.8, -1234.5):
            assert parse_number(format_number(value, lang, decimals=2), lang) == value


def test_unknown_language_is_a_clear_error():
    with pytest.raises(ValueError, match="language 'de'"):
        format_number(1.0, "de")


def test_relative_change_with_two_significant_digits():
    from chainsim.chain.numbers import format_relative

    assert format_relative(-1167, 41008) == f"{MINUS}2.8 %"
    assert format_relative(51.2, 25.45) == "+201 %"
    assert format_relative(-0.0001, 41008) == "0 %"  # never -0
    assert format_relative(1.0, 0.0) == "–"
    assert format_relative(-1167, 41008, "nl") == f"{MINUS}2,8 %"


def test_counts_take_the_singular_for_one():
    from chainsim.chain.numbers import format_count

    assert format_count(1, "replication", "replications") == "1 replication"
    assert format_count(20, "replication", "replications") == "20 replications"
    assert format_count(1000, "member", "members") == "1,000 members"


def test_months_in_words_in_both_languages():
    from chainsim.chain.numbers import format_month

    assert format_month("2021-01") == "January 2021"
    assert format_month("2023-03", "nl") == "maart 2023"
    with pytest.raises(ValueError, match="YYYY-MM"):
        format_month("2021")


def test_given_figures_drop_trailing_zeros():
    from chainsim.chain.numbers import format_given

    assert [format_given(x) for x in (0.55, 1300.0, 0.012, 2.0, 0.05000000001)] == [
        "0.55", "1,300", "0.012", "2", "0.05"]
    assert format_given(-0.0) == "0"
    assert format_given(0.1627, "nl") == "0,1627"

"""config.text: single-line text, and composed text made to fit its column."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actions.models import Action
from committee.models import AgendaItem
from config.text import ELLIPSIS, clip, fit, max_length, one_line


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Patch the VPN\r\nSubject: spoofed", "Patch the VPN Subject: spoofed"),
        ("  two \n\n\n lines  ", "two lines"),
        ("tab\there", "tab here"),
        ("nul\x00bell\x07escape\x1b[31m", "nul bell escape [31m"),
        ("next\x85line\u2028separator\u2029paragraph", "next line separator paragraph"),
        ("already one line", "already one line"),
        ("\r\n", ""),
    ],
)
def test_one_line_collapses_breaks_and_control_characters(typed, stored):
    assert one_line(typed) == stored


def test_clip_keeps_what_fits_and_marks_a_cut():
    assert clip("abc", 3) == "abc"
    assert clip("abcd", 3) == "ab" + ELLIPSIS
    assert clip("ab   cd", 6) == "ab" + ELLIPSIS  # no trailing space before the ellipsis
    assert len(clip("x" * 1000, 200)) == 200


def test_max_length_is_the_columns():
    assert max_length(Action, "title") == 200
    assert max_length(AgendaItem, "title") == 300
    with pytest.raises(TypeError):
        max_length(Action, "due_on")


@given(st.text(max_size=1200))
def test_fit_always_fits_on_one_line(composed):
    fitted = fit(Action, "title", composed)
    assert len(fitted) <= 200
    assert fitted == one_line(fitted)
    if len(one_line(composed)) <= 200:
        assert fitted == one_line(composed)

"""Themes: palettes complete, contrast at least 4.5:1, QSS renders."""

from __future__ import annotations

import pytest

from shared.ui.theme import CONTRAST_PAIRS, THEMES, contrast_ratio, palette


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize(("fg", "bg"), CONTRAST_PAIRS)
def test_contrast_is_at_least_4_5(theme: str, fg: str, bg: str) -> None:
    colors = palette(theme)
    ratio = contrast_ratio(colors[fg], colors[bg])
    assert ratio >= 4.5, f"{theme}: {fg} on {bg} is {ratio:.2f}:1"


def test_themes_define_the_same_names() -> None:
    assert set(palette("light")) == set(palette("dark"))


def test_contrast_formula_matches_wcag_examples() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)

"""Figure conventions every study shares: a colour-blind palette readable on white, one band convention that
the caption states, readable log ticks, a colour of its own for any optimizer."""
from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.colors import to_rgb

from attndyn.figures.common import BAND_TEXT, PALETTE, band, colors_for, figure_caption, save, subplots


def contrast_on_white(color: str) -> float:
    """WCAG contrast ratio of a colour against white."""
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(color)]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def test_every_palette_colour_reads_on_white():
    assert len(set(PALETTE.values())) == len(PALETTE) >= 8
    assert {name: round(contrast_on_white(c), 2) for name, c in PALETTE.items() if contrast_on_white(c) < 3.0} == {}
    assert contrast_on_white("#E69F00") < 3.0                   # the check can fail: Okabe-Ito orange is too light


def test_unknown_names_get_distinct_palette_colours():
    colors = colors_for(["gd", "new_a", "new_b"], {"gd": PALETTE["green"]})
    assert colors["gd"] == PALETTE["green"] and len(set(colors.values())) == 3
    assert set(colors.values()) <= set(PALETTE.values())


def _values() -> xr.DataArray:
    rng = np.random.default_rng(0)
    return xr.DataArray(np.exp(rng.normal(size=(3, 5))), dims=("seed", "step"), coords={"step": np.arange(1, 6)})


def test_the_caption_states_the_band_convention_the_figure_used(tmp_path):
    fig, ax = subplots(1, 2)
    assert figure_caption(fig, "Cap.") == "Cap."
    band(ax[0, 0], _values())
    assert figure_caption(fig, "Cap.") == f"Cap. {BAND_TEXT[False]}"
    line = band(ax[0, 1], _values(), logy=True)
    assert figure_caption(fig, "Cap.") == f"Cap. {BAND_TEXT[False]} {BAND_TEXT[True]}"
    geometric = 10 ** np.log10(_values()).mean("seed")
    np.testing.assert_allclose(line.get_ydata(), geometric.values)
    ax[0, 1].set_yscale("log")
    save(fig, tmp_path / "f.png", tmp_path / "f.pdf", "Cap.")
    assert (tmp_path / "f.png").stat().st_size > 1000 and (tmp_path / "f.pdf").stat().st_size > 1000


def test_sequential_colours_read_on_white_and_are_ordered():
    from attndyn.figures.common import sequential

    colors = sequential(6)
    assert len({tuple(c) for c in colors}) == 6 and min(contrast_on_white(c) for c in colors) >= 3.0
    contrasts = [contrast_on_white(c) for c in colors]
    assert contrasts == sorted(contrasts, reverse=True)            # dark to light


def test_a_linear_band_on_a_log_axis_is_a_figure_bug(tmp_path):
    import pytest

    fig, ax = subplots(1, 1)
    band(ax[0, 0], _values())
    ax[0, 0].set_yscale("log")
    with pytest.raises(ValueError, match=r"geometric|arithmetic"):
        save(fig, tmp_path / "f.png", tmp_path / "f.pdf", "Cap.")

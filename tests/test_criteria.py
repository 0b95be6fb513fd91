"""Negative controls of the shared criteria: a synthetic input where the paper's statement is false must fail."""
from __future__ import annotations

import numpy as np
import pytest

from attndyn.criteria import onset, ordered, quadratic_residual, rate_models

T = np.arange(450, 901, 45, dtype=float)


def test_a_power_law_is_not_a_linear_rate_and_an_exponential_is():
    assert not rate_models(T, 3.0 * T ** -2.0).geometric_wins                 # R^2 of a line in t is 0.99 here
    assert rate_models(T, np.exp(-0.01 * T)).geometric_wins
    fit = rate_models(T, np.exp(-0.01 * T))
    assert fit.decades_per_step == pytest.approx(0.01 / np.log(10))


def test_several_exponential_modes_still_converge_linearly():
    """GD with modes of different rates converges linearly but bends: a sum of exponentials is not a power law."""
    t = np.arange(1, 2001, 20, dtype=float)
    two_modes = np.exp(-0.02 * t) + 1e-3 * np.exp(-0.004 * t)
    assert rate_models(t, two_modes).geometric_wins
    assert not rate_models(t, (1 + t) ** -1.5).geometric_wins


def test_a_flat_curve_is_not_an_ordering_and_a_rising_one_is():
    rng = np.random.default_rng(0)
    flat = 0.3 + 1e-3 * rng.standard_normal((5, 6))                         # no effect of H beyond noise
    assert not ordered(flat, increasing=True).holds
    rising = np.linspace(0.1, 0.4, 6)[None] + 1e-3 * rng.standard_normal((5, 6))
    assert ordered(rising, increasing=True).holds
    assert not ordered(rising, increasing=False).holds
    bump = rising.copy()
    bump[:, 3] = 0.05                                                        # one clear reversal
    assert not ordered(bump, increasing=True).no_reversal


def test_onsets_in_either_direction():
    steps = np.arange(10)
    rising = np.array([0.5, 0.5, 0.55, 0.6, 0.8, 1, 1, 1, 1, 1])
    assert onset(steps, rising, 1.0, 0.25) == 4                              # 0.5 + 0.25 * 0.5 = 0.625
    falling = 0.5 - rising + 0.5                                             # 0.5 -> 0
    assert onset(steps, falling, 0.0, 0.25) == 4
    assert np.isnan(onset(steps, np.full(10, 0.5), 1.0, 0.25))


def test_roughness_is_zero_for_any_quadratic_and_grows_with_ripples():
    coords = np.linspace(-1, 1, 11)
    a, b = np.meshgrid(coords, coords, indexing="ij")
    for bowl in (a ** 2 + b ** 2, 5 * a ** 2 + 0.1 * b ** 2 + 0.3 * a * b + a, 1e-3 * (a ** 2 + 2 * b ** 2)):
        assert quadratic_residual(bowl, coords) == pytest.approx(0.0, abs=1e-12)
    small, large = (a ** 2 + b ** 2 + r * np.sin(8 * a) * np.cos(8 * b) for r in (0.02, 0.2))
    rough = quadratic_residual(np.stack([small, large]), coords)
    assert 0 < rough[0] < rough[1]


def test_the_claims_page_shows_every_row_with_its_verdict_escaped():
    from attndyn.claims_html import claims_page

    rows = {"signgd": [{"claim": "C1 <rate>", "expected": "R2 >= 0.9", "measured": "0.99", "passed": "True",
                        "fails_if": "a power law", "depends_on": "", "scale": "smoke"},
                       {"claim": "C2", "expected": "x", "measured": "y", "passed": "False"}],
            "kernels": [{"claim": "C6", "expected": "a", "measured": "b", "passed": "False"}]}
    page = claims_page(rows)
    assert "1 of 3 rows pass" in page and "signgd: 1 of 2 rows pass (smoke scale)" in page
    assert page.count('<tr class="pass">') == 1 and page.count('<tr class="fail">') == 2
    assert "C1 &lt;rate&gt;" in page and "<rate>" not in page

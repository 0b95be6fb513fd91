"""Reconstruction sensitivity: an axis changes the verdict only where some point of the other axis passes at one of
its values and fails at another; each axis carries its schema tag."""
from __future__ import annotations

import numpy as np
import xarray as xr

from attndyn.sensitivity import axis_tag, map_sensitivity, markdown_table, sensitivity_page, write_sensitivity

KEYS = {"model": "", "model.gaussian_rownorm": "rows normalized [RECONSTRUCTED]", "data.s2.sigma_Q": "init [PROPOSED]"}


def _map(passed: np.ndarray) -> xr.Dataset:
    """A map over sigma_Q (3) x gaussian_rownorm (2) with 2 seeds: passed (sigma_Q, gaussian_rownorm, seed)."""
    ds = xr.Dataset({"passed": (("sigma_Q", "gaussian_rownorm", "seed"), passed)},
                    coords={"sigma_Q": [0.3, 1.0, 3.0], "gaussian_rownorm": [False, True], "seed": [0, 1]})
    return ds.assign_attrs(axes="sigma_Q,gaussian_rownorm", map="c4_rownorm", claim="C4 pitfall")


def test_an_axis_that_flips_the_verdict_is_flagged_and_one_that_does_not_is_not():
    passed = np.zeros((3, 2, 2), bool)
    passed[:, 1, :] = True                       # holds everywhere with normalized rows, nowhere without
    rows = {r.axis: r for r in map_sensitivity("kernels", _map(passed), KEYS)}
    assert rows["gaussian_rownorm"].verdict_changes and rows["gaussian_rownorm"].tag == "RECONSTRUCTED"
    assert "gaussian_rownorm=True: holds at 3 of 3" in rows["gaussian_rownorm"].verdict_by_value
    assert not rows["sigma_Q"].verdict_changes and rows["sigma_Q"].tag == "PROPOSED"


def test_one_failing_seed_means_the_point_does_not_hold():
    passed = np.ones((3, 2, 2), bool)
    passed[0, 0, 1] = False                      # one seed fails at sigma_Q 0.3 without normalization
    rows = {r.axis: r for r in map_sensitivity("kernels", _map(passed), KEYS)}
    assert rows["gaussian_rownorm"].verdict_changes and rows["sigma_Q"].verdict_changes
    assert "sigma_Q=0.3: holds at 1 of 2" in rows["sigma_Q"].verdict_by_value
    uniform = {r.axis: r for r in map_sensitivity("kernels", _map(np.ones((3, 2, 2), bool)), KEYS)}
    assert not any(r.verdict_changes for r in uniform.values())


def test_tags_come_from_the_key_or_the_keys_ending_in_the_axis(tmp_path):
    assert axis_tag(KEYS, "gaussian_rownorm") == "RECONSTRUCTED" and axis_tag(KEYS, "optimizer.lr") == ""
    rows = map_sensitivity("kernels", _map(np.ones((3, 2, 2), bool)), KEYS)
    write_sensitivity(rows, tmp_path / "s.csv", tmp_path / "s.html")
    assert (tmp_path / "s.csv").read_text().count("\n") == 3 and "<table>" in (tmp_path / "s.html").read_text()
    assert markdown_table(rows).count("\n") == 3 and "c4_rownorm" in sensitivity_page(rows)

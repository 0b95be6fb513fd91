"""Claim-map statistics of the signgd study (attndyn.maps.Statistic) and the boundaries the spec predicts."""
from __future__ import annotations

import numpy as np
import xarray as xr

from ...maps import MapSettings, Statistic
from ...results import final

SPEC = "docs/papers/signgd.md"


def _point(ds: xr.Dataset, point: dict) -> xr.Dataset:
    return ds.sel(point)


def signgd_over_gd(ds: xr.Dataset, point: dict, settings) -> xr.DataArray:
    """Final SignGD test loss / final GD test loss, per seed (C6: >= checks.C6_loss_ratio_min)."""
    loss = final(_point(ds, point), "test_loss")
    return loss.sel(optimizer="signgd") / loss.sel(optimizer="gd")


def adam_test_loss(ds: xr.Dataset, point: dict, settings) -> xr.DataArray:
    """Adam's final test loss, per seed (C5: Adam generalizes as poorly as SignGD, >= checks.C5_adam_test_loss_min)."""
    sub = _point(ds, point)
    return final(sub.sel(optimizer="adam") if "optimizer" in sub.dims else sub, "test_loss")


def signgd_l1_boundary(settings, m: MapSettings) -> tuple:
    """SignGD compares l1 masses ||mu||_1 vs ||xi||_1 ~ sigma_p s sqrt(2/pi) (spec Sec. 2 [DERIVED]); with
    SNR = ||mu|| / (sigma_p sqrt(s)) and a 1-sparse mu the signal wins where SNR > sqrt(2 s / pi)."""
    s = np.geomspace(min(m.axes["s"]), max(m.axes["s"]), 50)
    return np.sqrt(2 * s / np.pi), s, "SNR = sqrt(2 s / pi): SignGD's signal l1 mass = noise l1 mass [DERIVED]"


STATISTICS = {
    "signgd_over_gd_test_loss": Statistic(
        claim="C6 SignGD fails to generalize where GD succeeds (SignGD / GD test loss)", compute=signgd_over_gd,
        direction=">=", threshold=lambda s: s.checks.C6_loss_ratio_min, log=True,
        source=f"{SPEC} 'What the study must show' 5 and Sec. 2 [DERIVED]: SignGD compares l1 masses, GD l2",
        needs=("signgd", "gd")),
    "adam_test_loss": Statistic(
        claim="C5 Adam generalizes as poorly as SignGD (Adam's final test loss)", compute=adam_test_loss,
        direction=">=", threshold=lambda s: s.checks.C5_adam_test_loss_min,
        source=f"{SPEC} 'What the study must show' 4; Sec. 4: 'too large an eps makes Adam GD-like'",
        needs=("adam",)),
}
BOUNDARIES = {"signgd_l1": signgd_l1_boundary}

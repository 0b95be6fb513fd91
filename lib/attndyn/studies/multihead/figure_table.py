"""Which experiment and which optimizers each multihead figure draws (torch-free: plan.py and figures.py).

Figs. 2-5 draw one row per listed optimizer (the paper's figures); a figure is planned only when its
experiment runs every listed optimizer. `None` = every optimizer the experiment runs (one colour each)."""
from __future__ import annotations

FIGURES: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "fig2_dm1_gd_constant": ("dm1", ("gd",)),
    "fig3_dm1_sqrtH_adam": ("dm1", ("gd_sqrtH", "adam")),
    "fig4_planted_gd_sqrtH": ("planted", ("gd_sqrtH",)),
    "fig5_planted_momentum_adam": ("planted", ("momentum", "adam")),
    "fig_dm1_optimizers": ("dm1_optimizers", None),
}

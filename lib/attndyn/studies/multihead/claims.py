"""Claims of Deora et al. checked by numbers (spec Sec. 7; thresholds are config keys `checks`).

Every row is decided per trial: a trial is a data seed shared by every H, so values are paired across H.
An ordering in H must beat the trials' noise (`criteria.ordered`: the paired first-to-last change goes the
claimed way by more than `order_margin_se` standard errors, and no consecutive step goes against it by
more; a flat H-curve fails); levels, gaps and slopes must hold in every trial. Each row says what outcome
would fail it, quotes the spec sentence it tests and lists the [RECONSTRUCTED]/[PROPOSED] settings its
verdict depends on.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import xarray as xr

from ...claims import Claim, fmt, loglog_slope, seed_list
from ...criteria import Ordering, ordered
from ...results import at, final
from .settings import Checks, Settings

SPEC = "docs/papers/multihead.md"
MUST = f"{SPEC} 'What the study must show'"
LOSSES = ("train_loss", "test_loss")
OPT_KEYS = ("lr", "beta", "betas", "eps")
INIT_EXPERIMENT = "dm1_init"            # DM1 under the theory's random / one_step inits (sweep `init`)


@dataclass(frozen=True)
class Deps:
    """The [RECONSTRUCTED]/[PROPOSED] settings, as configured, that the rows' verdicts depend on."""
    model: str
    dm1: str
    planted: str
    optimizers: dict[str, str]
    init: str

    def of(self, data: str, optimizers, *extra: str) -> str:
        opts = [self.optimizers[str(o)] for o in optimizers if self.optimizers.get(str(o))]
        return "; ".join([self.model, getattr(self, data), *opts, *extra])


def optimizer_dep(name: str, entry: dict) -> str:
    """An optimizer's configured values [PROPOSED]; '' for GD with eta = 1 constant in H [PAPER]. (The sqrt(H)
    scaling of gd_sqrtH and momentum and Adam's step constant in H are [PAPER].)"""
    if entry.get("rule") == "gd" and entry.get("lr") == 1.0 and entry.get("lr_scaling") == "constant":
        return ""
    values = ", ".join(f"{k} {entry[k]}" for k in OPT_KEYS if entry.get(k) is not None)
    return f"optimizers.{name} ({values}) [PROPOSED]"


def deps(settings: Settings) -> Deps:
    m, d1, pl = settings.model, settings.data.dm1, settings.data.planted
    model = (f"model: Phi = ({m.head_scaling}) sum_h f_h, {m.pooling} pooling over queries, W_h and U_h trained "
             f"directly, logistic loss [RECONSTRUCTED]; temperature {m.temperature:g} [PROPOSED]")
    dm1 = (f"data.dm1 (T {d1.T}, d {d1.d}, zeta {d1.zeta:g}, M {d1.M}, S {d1.S:g}, sigma {d1.sigma:g}) [PROPOSED], "
           "orthogonal cluster means [RECONSTRUCTED]")
    planted = (f"data.planted (T {pl.T}, d {pl.d}, beta {pl.beta:g}, n_train {pl.n_train}, n_test {pl.n_test}) "
               "[PROPOSED], Gaussian tokens, one-head teacher, sign labels [RECONSTRUCTED]")
    std = "1/sqrt(d)" if m.init_random_std is None else f"{m.init_random_std:g}"
    init = (f"model.init random / one_step: W_h = 0, U_h ~ N(0, ({std})^2 I), one_step = one full-batch GD step "
            f"of lr {m.init_one_step_lr:g} [PROPOSED]")
    opts = {name: optimizer_dep(name, entry) for name, entry in settings.optimizers.items()}
    return Deps(model, dm1, planted, opts, init)


def run_lengths(ds: xr.Dataset, name: str) -> str:
    """'experiments.<name> run length (gd 5000, adam 1000) [PROPOSED]' from each optimizer's last step."""
    steps = ds.final_step.max([d for d in ds.final_step.dims if d != "optimizer"])
    return f"experiments.{name} run length (" + ", ".join(
        f"{o} {int(steps.sel(optimizer=o))}" for o in steps.optimizer.values) + ") [PROPOSED]"


# ---- orderings in H ------------------------------------------------------------------------------------------
def series(values) -> str:
    return "[" + ", ".join(fmt(float(v)) for v in np.asarray(values).ravel()) + "]"


def in_se(x: float, se: float) -> str:
    """x in standard errors (+-inf when every trial shows the same change; nan for a diverged run)."""
    if not (np.isfinite(x) and np.isfinite(se)) or se > 0:
        return fmt(x / se if se > 0 else np.nan)
    return "+inf" if x > 0 else "-inf" if x < 0 else "0"


def heads_label(ds: xr.Dataset) -> str:
    return "H = " + ", ".join(str(int(h)) for h in sorted(ds.heads.values))


def order_at(ds: xr.Dataset, opt: str, var: str, t: int, increasing: bool, margin: float) -> tuple[Ordering, str]:
    """Ordering in H of `var` at step t under optimizer `opt`, paired per trial; and its measured text."""
    values = at(ds, var, t).sel(optimizer=opt).sortby("heads").transpose("seed", "heads")
    o = ordered(values.values, increasing, margin)
    worst = int(np.nanargmin(o.steps + margin * o.step_se)) if np.isfinite(o.steps).any() else 0   # nearest reversal
    return o, (f"{opt} {var} t={t}: mean by H {series(values.mean('seed', skipna=False))}; first->last {fmt(o.total)} "
               f"({in_se(o.total, o.total_se)} SE), worst step {fmt(o.steps[worst])} "
               f"({in_se(o.steps[worst], o.step_se[worst])} SE): {'holds' if o.holds else 'FAILS'}")


def orderings(ds: xr.Dataset, cases, increasing: bool, margin: float) -> tuple[bool, str]:
    """Every (optimizer, variable, t) case ordered in H; all must hold."""
    results = [order_at(ds, o, v, t, increasing, margin) for o, v, t in cases]
    return bool(results) and all(o.holds for o, _ in results), "; ".join(m for _, m in results)


def order_text(who: str, what: str, times, increasing: bool, margin: float, ds: xr.Dataset) -> str:
    way = "rise" if increasing else "fall"
    return (f"{who}, at t = {list(times)}: {what} {way} with H ({heads_label(ds)}), paired per "
            f"trial: the first-to-last change goes that way by > {margin:g} SE of its trial-to-trial spread and "
            f"no consecutive step goes against it by > {margin:g} SE")


def order_fails_if(what: str, increasing: bool) -> str:
    other = "falling" if increasing else "rising"
    return (f"{what} flat in H (no effect beyond trial noise), {other} with H, or one clear reversal between "
            "consecutive H, at any listed time and optimizer")


def init_label(init: str) -> str:
    return "" if init == "zero" else f" [init {init}: the H heads differ only in their initialization]"


def c1_constant_step_slower(ds: xr.Dataset, times, margin: float, depends: str, init: str = "zero") -> Claim:
    ok, measured = orderings(ds, [("gd", v, t) for t in times for v in LOSSES], True, margin)
    return Claim(
        f"C1 DM1 GD constant eta: more heads => slower{init_label(init)}",
        order_text("GD eta = 1", "train and test loss", times, True, margin, ds),
        measured, ok, fails_if=order_fails_if("train or test loss", True),
        source=f"{MUST} 1: 'DM1, GD with constant eta = 1: more heads H => slower convergence (train/test loss at a "
               "fixed iteration rise with H)'; Sec. 6 Fig. 2: 'overparameterization slows down GD with constant step'",
        depends_on=depends)


def c1_attention_slower(ds: xr.Dataset, c: Checks, depends: str) -> Claim:
    """The relevant-token attention score and avg ||W|| at fixed times fall with H under constant-step GD."""
    cases = [("gd", v, t) for t in c.C1_times for v in ("attn_score", "avg_W_norm")]
    ok, measured = orderings(ds, cases, False, c.order_margin_se)
    return Claim(
        "C1b DM1 GD constant eta: attention score and avg ||W|| grow more slowly for large H",
        order_text("GD eta = 1", "attn-score and avg ||W||", c.C1_times, False, c.order_margin_se, ds),
        measured, ok, fails_if=order_fails_if("attn-score or avg ||W||", False),
        source=f"{MUST} 1: 'avg ||W|| and the relevant-token attention score grow more slowly for large H'; Sec. 8 "
               "(reference simulation): 'GD eta = 1 at t = 1000: attn-score falls from 0.82 (H = 1) to 0.29 (H = 40)'",
        depends_on=depends)


def c2_scaled_step_faster(ds: xr.Dataset, t: int, margin: float, depends: str, init: str = "zero") -> Claim:
    opts = [o for o in ("gd_sqrtH", "adam") if o in ds.optimizer.values]
    ok, measured = orderings(ds, [(o, v, t) for o in opts for v in LOSSES], False, margin)
    return Claim(
        f"C2 DM1 GD eta ~ sqrt(H) and Adam: more heads => faster{init_label(init)}",
        order_text(" and ".join(opts) or "(none run)", "train and test loss", [t], False, margin, ds),
        measured or "neither gd_sqrtH nor adam was run", ok, fails_if=order_fails_if("train or test loss", False),
        source=f"{MUST} 3: 'DM1, GD with eta ~ sqrt(H) and Adam with constant step: more heads => faster train and "
               f"test loss convergence'; Sec. 7 C2: 'decreases in H at t = 100 under both'",
        depends_on=depends)


# ---- rate, gap, attention ------------------------------------------------------------------------------------
def late_slopes(loss: xr.DataArray, final_step: xr.DataArray) -> np.ndarray:
    """(H, trial) log-log slopes of each run's loss over its last decade [t_end / 10, t_end]."""
    out = []
    for H in loss.heads.values:
        t_end = int(final_step.sel(heads=H).max())
        run = loss.sel(heads=H)
        late = run.sel(step=(run.step >= t_end / 10) & (run.step <= t_end))
        out.append([loglog_slope(late.step.values, late.sel(seed=s).values)[0] for s in late.seed.values])
    return np.array(out)


def c3_one_over_t(ds: xr.Dataset, c: Checks, depends: str) -> Claim:
    gd = ds.sel(optimizer="gd").sortby("heads")
    slopes = late_slopes(gd.train_loss, gd.final_step)
    ok = bool(np.all(slopes <= c.C3_slope_max))                     # NaN (a diverged run) fails
    return Claim(
        "C3 DM1 GD constant eta: late-phase loss decays at least as fast as O(1/t)",
        f"every H ({heads_label(ds)}) and trial: log-log slope of the train loss over the run's last decade "
        f"[t_end / 10, t_end] <= {c.C3_slope_max:g} (the O(1/t) bound is an upper bound: any decay at least about as "
        "fast as 1/t agrees with it)",
        f"shallowest slope per H over trials {series(np.nanmax(slopes, 1) if slopes.size else [])}; all "
        f"{slopes.size} slopes in [{fmt(np.nanmin(slopes))}, {fmt(np.nanmax(slopes))}]", ok,
        fails_if=f"some H and trial with a late slope shallower than {c.C3_slope_max:g}, i.e. a loss decaying "
                 "slower than ~1/t (or stalling)",
        source=f"{MUST} 2: 'Late-phase losses follow an O(1/t) trend (log-log slope ~ -1), as the bounds predict'; "
               "Sec. 2: 'L(theta_K) <= 2 L(theta*) + O(||theta* - theta_0||^2 / (eta K)), i.e. an O(1/K) rate'",
        depends_on=depends)


def worst_place(gap: xr.DataArray) -> str:
    """'H=.., trial .., t=..' of the largest value of gap (heads, seed, step)."""
    g = gap.transpose("heads", "seed", "step")
    h, s, k = np.unravel_index(int(np.nanargmax(g.values)), g.shape)
    return f"H={int(g.heads[h])}, trial {int(g.seed[s])}, t={int(g.step[k])}"


def gap_text(gap: xr.DataArray, final_gap: xr.DataArray, limit: float) -> str:
    """One optimizer's gaps (heads, seed, step): worst per trial and where, the last step over the limit."""
    over = gap.step.values[(gap >= limit).any(("heads", "seed")).values]
    last = f"over {limit:g} up to t = {int(over.max())}" if over.size else f"never over {limit:g}"
    return (f"worst per trial {seed_list(gap.max(('heads', 'step')))} (max at {worst_place(gap)}), {last}, "
            f"final-step max {fmt(float(final_gap.max()))}")


def c4_generalization_gap(ds: xr.Dataset, c: Checks, depends: str) -> Claim:
    gap = abs(ds.test_loss - ds.train_loss)                          # NaN after a run's last step
    final_gap = abs(final(ds, "test_loss") - final(ds, "train_loss"))
    ok = bool((gap.max("step") < c.C4_gap_max).all() and np.isfinite(final_gap).all())
    parts = [f"{o}: {gap_text(gap.sel(optimizer=o), final_gap.sel(optimizer=o), c.C4_gap_max)}"
             for o in ds.optimizer.values]
    return Claim(
        "C4 DM1 small generalization gap (test tracks train over the whole run)",
        f"every H, optimizer and trial: |test - train| loss < {c.C4_gap_max:g} (absolute) at every logged step",
        "; ".join(parts), ok,
        fails_if=f"|test - train| >= {c.C4_gap_max:g} at any logged step of any run (or a diverged run)",
        source=f"{MUST} 5: 'Small generalization gap (test tracks train)'; Sec. 7 C4: '|test - train| < 0.02 "
               "(absolute) ... all optimizers'",
        depends_on=depends)


def c5_attention_relevant(ds: xr.Dataset, zeta: float, c: Checks, depends: str) -> Claim:
    f = c.C5_rise_fraction
    rise = (final(ds, "attn_score") - zeta) / (1.0 - zeta)          # (heads, optimizer, seed)
    ok = bool((rise >= f).all())                                     # NaN fails
    parts = [f"{o}: min over trials by H {series(rise.sel(optimizer=o).sortby('heads').min('seed'))}"
             for o in rise.optimizer.values]
    return Claim(
        "C5 DM1 attention score on relevant tokens rises from zeta toward 1",
        f"every H ({heads_label(ds)}), optimizer and trial: the final attn-score has covered >= {f:g} of the way "
        f"from zeta = {zeta:g} to 1, i.e. (score - zeta) / (1 - zeta) >= {f:g} (score >= "
        f"{fmt(zeta + f * (1 - zeta))})",
        "fraction of the way from zeta to 1: " + "; ".join(parts), ok,
        fails_if=f"a run whose final attn-score has covered less than {f:g} of the way from zeta to 1 (a drift off "
                 "zeta, or attention that never concentrates on the relevant tokens)",
        source=f"{MUST} 5: 'attention score on relevant tokens rises from zeta toward 1'; Sec. 5 metric 5: 'Equals "
               "zeta at theta = 0 and -> 1 as attention focuses on relevant tokens'",
        depends_on=depends)


# ---- planted model -------------------------------------------------------------------------------------------
def c6_planted_faster(ds: xr.Dataset, c: Checks, depends: str) -> Claim:
    t, margin = c.C2_C6_time, c.order_margin_se
    ok, measured = orderings(ds, [(str(o), "train_loss", t) for o in ds.optimizer.values], False, margin)
    return Claim(
        "C6 planted: more heads => faster (GD sqrt(H), momentum sqrt(H), Adam)",
        order_text("every optimizer", "train loss", [t], False, margin, ds), measured, ok,
        fails_if=order_fails_if("train loss", False),
        source=f"{MUST} 4: 'Planted model, GD and GD + momentum with eta ~ sqrt(H), Adam with constant step: more "
               "heads => faster convergence'; Sec. 7 C6: 'mean train loss decreases in H at t = 100'",
        depends_on=depends)


def first_defined(values: xr.DataArray) -> tuple[xr.DataArray, list[int]]:
    """Each run's value at its own first logged step k >= 1 where it is finite (W is still 0 at k = 1 under
    zero init, since dL/dW = 0 while U = 0), and the steps k that occurred."""
    later = values.sel(step=values.step >= 1).transpose(..., "step")
    finite = np.isfinite(later.values)
    index = finite.argmax(-1)
    first = np.take_along_axis(later.values, index[..., None], -1)[..., 0]
    first = np.where(finite.any(-1), first, np.nan)
    dims = later.dims[:-1]
    steps = sorted({int(k) for k in later.step.values[index].ravel()})
    return xr.DataArray(first, dims=dims, coords={d: later[d] for d in dims}), steps


def c7_alignment_grows(ds: xr.Dataset, depends: str) -> Claim:
    parts, ok = [], True
    for var in ("align_W", "align_U"):
        first, ks = first_defined(ds[var])                                      # (heads, optimizer, seed)
        rise = final(ds, var) - first
        ok &= bool((rise > 0).all())                                           # NaN fails
        parts.append(f"{var} (first defined at k = {ks}): min rise per optimizer over H and trials "
                     + ", ".join(f"{o} {fmt(float(rise.sel(optimizer=o).min()))}" for o in rise.optimizer.values))
    return Claim(
        "C7 planted: alignment with the planted head grows",
        "every H, optimizer and trial: final align_W and align_U exceed their value at the first logged step "
        "k >= 1 where they are defined (k = 1 for U, k = 2 for W under zero init)",
        "; ".join(parts), ok,
        fails_if="a run whose final align_W or align_U is not above its first defined value",
        source=f"{MUST} 4: 'alignment of W and U with the planted head grows during training'; Sec. 7 C7",
        depends_on=depends)


# ---- rows ----------------------------------------------------------------------------------------------------
def experiment_zeta(settings: Settings, name: str) -> float:
    """The relevant fraction zeta of a DM1 experiment: the study's data.dm1 with the experiment's `data`."""
    return dataclasses.replace(settings.data.dm1, **settings.experiments[name].data).zeta


def dm1_rows(ds: xr.Dataset, settings: Settings, d: Deps) -> list[Claim]:
    """C1, C1b, C2, C3 (C1, C1b, C3 need constant-step GD), C4, C5 on the zero-init DM1 experiment."""
    c, run, margin = settings.checks, run_lengths(ds, "dm1"), "checks.order_margin_se [PROPOSED]"
    gd = d.of("dm1", ["gd"], margin)
    has_gd = "gd" in ds.optimizer.values
    out = [c1_constant_step_slower(ds, c.C1_times, c.order_margin_se, gd), c1_attention_slower(ds, c, gd)] \
        if has_gd else []
    out.append(c2_scaled_step_faster(ds, c.C2_C6_time, c.order_margin_se, d.of("dm1", ["gd_sqrtH", "adam"], margin)))
    if has_gd:
        out.append(c3_one_over_t(ds, c, d.of("dm1", ["gd"], run, "checks.C3_slope_max [PROPOSED]")))
    everyone = d.of("dm1", ds.optimizer.values, run)
    return out + [c4_generalization_gap(ds, c, everyone + "; checks.C4_gap_max [PROPOSED]"),
                  c5_attention_relevant(ds, experiment_zeta(settings, "dm1"), c,
                                        everyone + "; checks.C5_rise_fraction [PROPOSED]")]


def by_init(ds: xr.Dataset, settings: Settings) -> list[tuple[str, xr.Dataset]]:
    """(init, dataset) per swept init; an experiment that sets one init (model.init) without sweeping it."""
    if "init" in ds.dims:
        listed = [str(i) for i in settings.experiments[INIT_EXPERIMENT].sweep.get("init", ())]
        inits = sorted((str(i) for i in ds.init.values), key=lambda i: listed.index(i) if i in listed else len(listed))
        return [(i, ds.sel(init=i)) for i in inits]
    return [(str(settings.experiments[INIT_EXPERIMENT].model.get("init", settings.model.init)), ds)]


def init_rows(ds: xr.Dataset, settings: Settings, d: Deps) -> list[Claim]:
    """C1 and C2 under the theory's random and one_step initializations (experiment dm1_init)."""
    c, out = settings.checks, []
    t = c.C1_C2_init_time
    for init, sub in by_init(ds, settings):
        extra = (d.init, run_lengths(sub, INIT_EXPERIMENT), "checks.order_margin_se [PROPOSED]")
        if "gd" in sub.optimizer.values:
            out.append(c1_constant_step_slower(sub, [t], c.order_margin_se, d.of("dm1", ["gd"], *extra), init))
        if {"gd_sqrtH", "adam"} & set(sub.optimizer.values):
            out.append(c2_scaled_step_faster(sub, t, c.order_margin_se,
                                             d.of("dm1", ["gd_sqrtH", "adam"], *extra), init))
    return out


def claims(experiments: dict[str, xr.Dataset], settings: Settings) -> list[Claim]:
    """C1-C5 read the `dm1` experiment, C6-C7 the `planted` one, the init rows `dm1_init` (optimizers by
    name); dm1_optimizers has no claim rows."""
    d, out = deps(settings), []
    if "dm1" in experiments:
        out += dm1_rows(experiments["dm1"], settings, d)
    if "planted" in experiments:
        ds = experiments["planted"]
        depends = d.of("planted", ds.optimizer.values, run_lengths(ds, "planted"))
        out += [c6_planted_faster(ds, settings.checks, depends + "; checks.order_margin_se [PROPOSED]"),
                c7_alignment_grows(ds, depends)]
    if INIT_EXPERIMENT in experiments:
        out += init_rows(experiments[INIT_EXPERIMENT], settings, d)
    return out

"""The signgd and multihead training steps written for XLA: the whole step (forward, backward, update) is one
jitted function, runs are `vmap`ped, steps are a `lax.scan`. Same algorithms as the PyTorch engine:
signgd trains only the active coordinates with sparse (index, value) tokens; multihead stores one head for H
tied heads under zero init (gradient / H, logit scaled by H / sqrt(H)).
"""
from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)


# ---- signgd: two-layer transformer of Li et al. on sparse tokens (spec Sec. 3) --------------------------------------
def _project(W, idx, val):
    """<w_m, x> for rows w_m of W (m, K) and tokens given as (idx, val) (n, s): (n, m)."""
    return jnp.einsum("mns,ns->nm", W[:, idx], val)


def signgd_loss(params, idx, val, y, temperature):
    """Logistic loss of f(W, X) = sum_l sum_a softmax_a(<W_Q x_l, W_K x_a>) <vbar, x_a> for one run; every row of
    the four matrices is projected (one gather-product), the value rows then combined with c = (+1/m_v, -1/m_v)."""
    W = jnp.concatenate([params[k] for k in ("WQ", "WK", "WV_plus", "WV_minus")], 0)   # (M, K)
    m_k, m_v = params["WQ"].shape[0], params["WV_plus"].shape[0]
    P = jnp.stack([_project(W, i, v) for i, v in zip(idx, val)], 1)                    # (n, L, M)
    Q, K = P[..., :m_k], P[..., m_k:2 * m_k]
    c = jnp.concatenate([jnp.full(m_v, 1.0 / m_v), jnp.full(m_v, -1.0 / m_v)])
    S = jax.nn.softmax(jnp.einsum("nlk,nak->nla", Q, K) / temperature, axis=-1)        # (n, L, L)
    f = jnp.einsum("nla,na->n", S, P[..., 2 * m_k:] @ c)
    return jnp.mean(jax.nn.softplus(-y * f))


def _signgd_run(params, idx, val, y, lr, temperature, steps):
    def step(p, _):
        loss, grads = jax.value_and_grad(signgd_loss)(p, idx, val, y, temperature)
        return jax.tree_util.tree_map(lambda w, g: w - lr * jnp.sign(g), p, grads), loss
    return jax.lax.scan(step, params, None, length=steps)[1]


@partial(jax.jit, static_argnums=(6,))
def _signgd_scan(params, idx, val, y, lr, temperature, steps):
    return jax.vmap(_signgd_run, in_axes=(0, 0, 0, 0, None, None, None))(params, idx, val, y, lr, temperature, steps)


def signgd_losses(inputs: dict, steps: int) -> np.ndarray:
    """Per-step training losses (steps, R) of SignGD from inputs['params'] (R runs)."""
    out = _signgd_scan(inputs["params"], inputs["idx"], inputs["val"], inputs["y"], inputs["lr"],
                       inputs["temperature"], steps)
    return np.asarray(jax.block_until_ready(out)).T


# ---- multihead: single-layer attention with H tied heads (spec Sec. 1) ----------------------------------------------
def multihead_loss(params, X, y, heads):
    """Phi = (1/sqrt(H)) sum_h f_h with H identical heads = (H / sqrt(H)) f, mean pooling; logistic loss."""
    A = jax.nn.softmax(jnp.einsum("ntd,de,nse->nts", X, params["W"], X), axis=-1)     # (n, T, T)
    f = jnp.einsum("nts,ns->n", A, X @ params["U"]) / X.shape[1]
    phi = heads / jnp.sqrt(heads) * f
    return jnp.mean(jax.nn.softplus(-y * phi))


def _multihead_run(params, X, y, lr, heads, steps):
    def step(p, _):
        loss, grads = jax.value_and_grad(multihead_loss)(p, X, y, heads)
        return jax.tree_util.tree_map(lambda w, g: w - lr * (g / heads), p, grads), loss   # each head's own grad
    return jax.lax.scan(step, params, None, length=steps)[1]


@partial(jax.jit, static_argnums=(5,))
def _multihead_scan(params, X, y, lr, heads, steps):
    return jax.vmap(_multihead_run, in_axes=(0, 0, 0, None, None, None))(params, X, y, lr, heads, steps)


def multihead_losses(inputs: dict, steps: int) -> np.ndarray:
    """Per-step training losses (steps, R) of GD from the stored head inputs['params'] (W (R, 1, d, d))."""
    params = {"W": inputs["params"]["W"][:, 0], "U": inputs["params"]["U"][:, 0]}
    out = _multihead_scan(params, inputs["X"], inputs["y"], inputs["lr"], float(inputs["heads"]), steps)
    return np.asarray(jax.block_until_ready(out)).T

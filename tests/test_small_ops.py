"""The engine's small kernels: the short-dimension softmax, the sparse transposed product (signgd backward) and
the allocator setting of train jobs (memory.keep_freed_memory)."""
from __future__ import annotations

import warnings

import pytest
import torch

from attndyn.softmax import short_softmax
from attndyn.studies.signgd.tokens import TransposedProduct

F64 = torch.float64


@pytest.mark.parametrize("shape", [(7, 10), (3, 5, 10, 2, 10), (4, 2)])
def test_short_softmax_equals_torch_softmax_to_rounding(shape):
    Z = torch.randn(shape, dtype=F64, generator=torch.Generator().manual_seed(0)) * 30
    ours, ref = short_softmax(Z), torch.softmax(Z, -1)
    assert torch.allclose(ours, ref, rtol=4e-16 * shape[-1], atol=1e-300)
    assert torch.allclose(ours.sum(-1), torch.ones(shape[:-1], dtype=F64), rtol=0, atol=1e-15)


def test_short_softmax_is_stable_where_exp_overflows():
    Z = torch.tensor([[1000.0, 999.0, -1000.0]], dtype=F64)
    assert torch.allclose(short_softmax(Z), torch.softmax(Z, -1), rtol=1e-15, atol=0)
    assert torch.isfinite(short_softmax(Z)).all()


def test_short_softmax_differs_from_a_wrong_axis():
    """A check that can fail: softmax over the first axis of a non-square input is not this."""
    Z = torch.randn(3, 4, dtype=F64, generator=torch.Generator().manual_seed(1))
    assert not torch.allclose(short_softmax(Z), torch.softmax(Z, 0))


def _sparse(rows: int, cols: int, nnz: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    index = torch.stack([torch.randint(rows, (nnz,), generator=g), torch.randint(cols, (nnz,), generator=g)])
    return torch.sparse_coo_tensor(index, torch.randn(nnz, dtype=F64, generator=g), (rows, cols),
                                   check_invariants=True).coalesce()


def _csr(coo: torch.Tensor) -> torch.Tensor:
    with warnings.catch_warnings():                                       # "CSR support is in beta"
        warnings.simplefilter("ignore", UserWarning)
        return coo.to_sparse_csr()


@pytest.mark.parametrize("rows, cols, nnz", [(50, 20, 30), (40, 10, 200), (30, 8, 0)])
def test_transposed_product_equals_the_csr_product_bit_for_bit(rows, cols, nnz):
    """Empty rows (most of the first case), rows with one entry and rows with many (the second)."""
    coo = _sparse(rows, cols, nnz, seed=rows)
    dY = torch.randn(cols, 6, dtype=F64, generator=torch.Generator().manual_seed(2))
    ours = TransposedProduct(_csr(coo)) @ dY
    assert ours.shape == (rows, 6)
    assert torch.allclose(ours, coo.to_dense() @ dY, rtol=1e-14, atol=1e-300)
    assert torch.equal(ours, _csr(coo) @ dY)                               # the product it replaces


def test_transposed_product_keeps_empty_rows_zero_when_inputs_are_not_finite():
    """A diverged run's NaN must not reach rows without entries (other runs' coordinates)."""
    coo = torch.sparse_coo_tensor(torch.tensor([[0, 2], [0, 1]]), torch.tensor([1.0, 2.0], dtype=F64), (3, 2),
                                  check_invariants=True)
    dY = torch.tensor([[float("nan")], [1.0]], dtype=F64)
    out = TransposedProduct(_csr(coo.coalesce())) @ dY
    assert torch.isnan(out[0, 0]) and out[1, 0].item() == 0.0 and out[2, 0].item() == 2.0


def test_keep_freed_memory_stops_page_faults_of_the_precond_step():
    """In a fresh interpreter: the precond loss and backward at the default size ((3, 500, 500) scores, 6 MB
    temporaries) page-fault its buffers in again every step by default (~3000 minor faults) and hardly at all once
    keep_freed_memory ran."""
    import subprocess
    import sys

    code = """
import resource, sys, torch
from attndyn.memory import keep_freed_memory
from attndyn.studies.precond.model import train_loss
ok = keep_freed_memory() if sys.argv[1] == "1" else True
g = torch.Generator().manual_seed(0)
data = {k: torch.randn(3, 500, 5, dtype=torch.float64, generator=g) for k in ("X", "Y")}
A = torch.zeros(3, 5, 5, dtype=torch.float64, requires_grad=True)
B = torch.eye(5, dtype=torch.float64).repeat(3, 1, 1).requires_grad_()
def step():
    A.grad = B.grad = None
    train_loss(A, B, data, 1.0, True).sum().backward()
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(ok, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""
    runs = {}
    for flag in ("0", "1"):
        out = subprocess.run([sys.executable, "-c", code, flag], capture_output=True, text=True, check=True)
        ok, faults = out.stdout.split()
        runs[flag] = (ok == "True", float(faults))
    if not runs["1"][0]:
        pytest.skip("not glibc: mallopt unavailable")
    if runs["0"][1] < 1000:
        pytest.skip(f"this machine's default malloc hardly page-faults these buffers ({runs['0'][1]:.0f} per step)")
    assert runs["1"][1] < runs["0"][1] / 5, runs

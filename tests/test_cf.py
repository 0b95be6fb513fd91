"""CF conventions of the pipeline's netCDF files: encode/decode round trip, and the CF checker on both an encoded
file (no problem) and a plain xarray file of the same data (problems: the check can fail)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr

from attndyn.cf import decode, encode
from attndyn.results import read_netcdf, write_netcdf
from attndyn.variables import Dim
from cf_check import cf_problems

META = SimpleNamespace(TITLE="A paper", AUTHORS="Someone", ARXIV="0000.00000", AXES={},
                       DIMS={"value_sign": Dim("sign of the block", values=(1, -1))})


def dataset() -> xr.Dataset:
    """What a pipeline job holds in memory: string labels, booleans, a dotted sweep key, unsorted numbers,
    a dimension without coordinate."""
    rng = np.random.default_rng(0)
    loss = rng.random((2, 3, 2, 4, 2))
    loss[0, 0, 1, 2:] = np.nan
    return xr.Dataset(
        {"train_loss": (("optimizer", "optimizer.lr", "seed", "step", "value_sign"), loss,
                        {"long_name": "training loss", "units": "1"}),
         "diverged": (("optimizer", "optimizer.lr", "seed"), loss[..., -1, 0] != loss[..., -1, 0],
                      {"long_name": "diverged", "flag_meanings": "finite diverged"}),
         "cell_settings": (("optimizer", "optimizer.lr"), np.full((2, 3), '{"lr": 1}', dtype=object),
                           {"long_name": "settings (JSON)"})},
        coords={"optimizer": ["signgd", "adam"], "optimizer.lr": [0.1, 0.01, 0.3], "seed": [0, 1],
                "step": [0, 1, 2, 4]},
        attrs={"study": "x", "attndyn_version": "0"})


def encoded(ds):
    return encode(ds, META, "x", "a test file", lambda key: f"meaning of {key}")


def test_round_trip_restores_labels_flags_and_names(tmp_path):
    ds = dataset()
    path = tmp_path / "f.nc"
    xr.Dataset.to_netcdf(encoded(ds), path)
    back = read_netcdf(path)
    expected = ds.sortby("optimizer.lr").assign_coords(value_sign=[1, -1])
    xr.testing.assert_equal(back.drop_vars("cell_settings"), expected.drop_vars("cell_settings"))
    assert back["diverged"].dtype == bool
    assert list(back["optimizer"].values) == ["signgd", "adam"]
    assert back["cell_settings"].values[0, 0] == '{"lr": 1}'


def test_encoded_form():
    out = encoded(dataset())
    assert out.attrs["Conventions"].startswith("CF-")
    assert {"title", "source", "history", "references"} <= set(out.attrs)
    assert "arXiv:0000.00000" in out.attrs["references"]
    assert list(out["optimizer"].values) == [0, 1] and list(out["optimizer_label"].values) == ["signgd", "adam"]
    assert out["optimizer_lr"].attrs["attndyn_name"] == "optimizer.lr"
    assert list(out["optimizer_lr"].values) == [0.01, 0.1, 0.3]                  # strictly monotonic
    assert out["diverged"].dtype == np.int8 and out["diverged"].attrs["flag_meanings"] == "finite diverged"
    assert list(out["value_sign"].values) == [1, -1]
    assert "final_step" in out["train_loss"].attrs["comment"]
    for dim in out.dims:
        assert "long_name" in out[dim].attrs, dim


def test_cf_checker_passes_encoded_and_flags_plain(tmp_path):
    """The checker has teeth: the same data written by plain xarray (string coordinate variable, a dotted name,
    no Conventions) is reported; the encoded file is clean."""
    plain, good = tmp_path / "plain.nc", tmp_path / "good.nc"
    dataset().to_netcdf(plain)
    write_netcdf(dataset(), good, study="signgd", title="a test file")
    assert cf_problems(good) == []
    problems = cf_problems(plain)
    assert problems, "the checker found nothing wrong with a plain xarray file"
    dataset().drop_vars("optimizer").to_netcdf(plain)                     # numeric labels: the checker runs
    problems = cf_problems(plain)
    assert any("Conventions" in p for p in problems), problems            # no Conventions attribute
    assert any("optimizer.lr" in p for p in problems), problems           # invalid variable name


def test_declared_values_must_fit():
    meta = SimpleNamespace(**{**vars(META), "DIMS": {"value_sign": Dim("sign", values=(1, 0, -1))}})
    with pytest.raises(ValueError, match="value_sign"):
        encode(dataset(), meta, "x", "t", str)


def test_decode_leaves_plain_files_alone():
    ds = dataset()
    xr.testing.assert_identical(decode(ds), ds)

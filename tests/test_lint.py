"""Lint and format, as CI runs them: `snakemake --lint` reports nothing, `snakefmt --check` and `ruff check` pass on
the whole tree (versions pinned in the `test` extra; settings in pyproject.toml)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize("command", [
    ["snakemake", "--lint", "--configfile", "config/smoke.yaml"],
    ["snakefmt", "--check", "."],
    ["ruff", "check", "."],
], ids=["snakemake-lint", "snakefmt", "ruff"])
def test_the_tree_is_lint_clean(command):
    proc = subprocess.run([str(BIN / command[0]), *command[1:]], cwd=REPO, text=True, capture_output=True)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    if command[0] == "snakemake":
        assert "Congratulations, your workflow is in a good condition!" in output, output[-3000:]

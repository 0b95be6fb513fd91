"""Reruns follow the code each job really runs: edit every package module once (a real code change) and check
which jobs `snakemake -n` plans, against the modules each job imported in the finished smoke run."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from attndyn.codegraph import PACKAGE, module_name, stage_modules
from workflow_helpers import IMPORT_LOG, SMOKE, planned_jobs, snakemake

pytestmark = pytest.mark.slow

RULE = {"data": "data", "train": "train", "aggregate": "aggregate", "figures": "figure", "maps": "map",
        "claims": "claims"}
DOWNSTREAM = {"data": {"train", "aggregate", "figure", "map", "claims"},
              "train": {"train", "aggregate", "figure", "map", "claims"},
              "aggregate": {"figure", "map", "claims"}, "map": {"claims"}, "figure": set(), "claims": set()}
MODULES = sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py"))


@pytest.fixture(scope="module")
def runtime_imports(smoke_run) -> dict[tuple[str, str], set[str]]:
    """(stage, study) -> modules the smoke run's jobs of that stage and study imported (package, torch._dynamo)."""
    out: dict[tuple[str, str], set[str]] = {}
    for record in (smoke_run / IMPORT_LOG).glob("*.txt"):
        stage, study, _ = record.name.split(".", 2)
        out.setdefault((stage, study), set()).update(record.read_text().split())
    return out


@pytest.fixture(scope="module")
def runtime_package_imports(runtime_imports) -> dict[tuple[str, str], set[str]]:
    """The same, package modules only."""
    return {key: {m for m in mods if m.startswith("attndyn")} for key, mods in runtime_imports.items()}


def test_each_stage_digest_covers_what_its_jobs_imported(runtime_package_imports):
    studies = {study for _, study in runtime_package_imports}
    assert {stage for stage, _ in runtime_package_imports} == set(RULE) and len(studies) == 4
    for (stage, study), modules in runtime_package_imports.items():
        assert modules <= stage_modules(study, stage), (stage, study, modules - stage_modules(study, stage))


def test_train_jobs_never_import_torch_dynamo(runtime_imports):
    """torch._dynamo costs ~2.4 s per job on the pinned torch; runtime.skip_dynamo_import keeps it out."""
    for (stage, study), modules in runtime_imports.items():
        assert "torch._dynamo" not in modules, (stage, study)


def _planned(proc) -> set[tuple[str, str]]:
    """(rule, study) of every planned job (all_claims and all are left out)."""
    jobs = planned_jobs(proc.stdout + proc.stderr)
    return {(rule, Path(out).parts[1]) for rule, outs in jobs for out in outs if rule in DOWNSTREAM}


def _edit_and_plan(workdir: Path, module: str) -> set[tuple[str, str]]:
    """Append a statement to `module` in `workdir`'s package copy, dry-run, restore: the planned (rule, study)."""
    path = workdir / "lib" / "attndyn" / module
    original = path.read_text()
    try:
        path.write_text(original + "\n_EDITED_BY_TEST = 1\n")          # a statement, not a comment
        return _planned(snakemake(workdir, "-n", *SMOKE))
    finally:
        path.write_text(original)


@pytest.fixture(scope="module")
def planned_after_edit(smoke_run, tmp_path_factory) -> dict[str, set[tuple[str, str]]]:
    """Every module's dry run, two at a time: the finished smoke run and a copy of it take turns."""
    from concurrent.futures import ThreadPoolExecutor

    twin = tmp_path_factory.mktemp("twin") / "run"
    shutil.copytree(smoke_run, twin, symlinks=True, ignore=shutil.ignore_patterns("locks", "incomplete"))
    assert _planned(snakemake(twin, "-n", *SMOKE)) == set()          # the copy (metadata included) is up to date
    halves = [MODULES[0::2], MODULES[1::2]]
    with ThreadPoolExecutor(2) as pool:
        results = pool.map(lambda job: {m: _edit_and_plan(job[0], m) for m in job[1]},
                           [(smoke_run, halves[0]), (twin, halves[1])])
    return {module: planned for part in results for module, planned in part.items()}


@pytest.mark.parametrize("module", MODULES)
def test_editing_a_module_reruns_every_job_that_imports_it(planned_after_edit, runtime_package_imports, module):
    planned = planned_after_edit[module]
    name = module_name(PACKAGE / module)
    imported = {(RULE[stage], study) for (stage, study), mods in runtime_package_imports.items() if name in mods}
    assert imported <= planned, f"stale after editing {module}: {sorted(imported - planned)}"
    static = {(RULE[stage], study) for stage, study in runtime_package_imports if name in stage_modules(study, stage)}
    allowed = static | {(after, study) for rule, study in static for after in DOWNSTREAM[rule]}
    assert planned <= allowed, f"rerun without reason after editing {module}: {sorted(planned - allowed)}"

"""The import graph behind the code digests, and the layering and size rules it lets us check."""
from __future__ import annotations

import ast

import pytest

from attndyn.codegraph import PACKAGE, closure, code_digest, direct_imports, module_name, stage_modules
from attndyn.studies import STAGE_MODULES, known_studies

MODULES = sorted(module_name(p) for p in PACKAGE.rglob("*.py"))
STUDY_PREFIX = "attndyn.studies."


def _study_of(module: str) -> str | None:
    """The study package a module belongs to (None for the core, including the registry and base)."""
    parts = module.split(".")
    return parts[2] if module.startswith(STUDY_PREFIX) and parts[2] in known_studies() else None


def test_relative_and_function_level_imports_are_found():
    assert "attndyn.optim.spec" in direct_imports("attndyn.experiments")             # from .optim.spec import
    assert "attndyn.studies.signgd.tokens" in direct_imports("attndyn.studies.signgd.runner")
    assert "attndyn.config" in direct_imports("attndyn.studies")                     # inside Study.schema()
    assert "attndyn.optim.structure_aware" in closure(["attndyn.optim.build"])


@pytest.mark.parametrize("study", known_studies())
def test_every_stage_covers_its_study_module_and_nothing_of_other_studies(study):
    for stage, names in STAGE_MODULES.items():
        modules = stage_modules(study, stage)
        assert {f"{STUDY_PREFIX}{study}.{n}" for n in names} <= modules
        assert all(_study_of(m) in (None, study) for m in modules), stage
        assert "attndyn.workflow" not in modules and f"{STUDY_PREFIX}{study}.plan" not in modules
    assert f"{STUDY_PREFIX}{study}.captions" not in stage_modules(study, "train")


def test_digests_differ_by_stage_and_are_stable():
    digests = {stage: code_digest("signgd", stage) for stage in STAGE_MODULES}
    assert len(set(digests.values())) == len(digests)
    code_digest.cache_clear()
    direct_imports.cache_clear()
    assert digests == {stage: code_digest("signgd", stage) for stage in STAGE_MODULES}


@pytest.mark.parametrize("module", MODULES)
def test_layering_a_study_imports_the_core_and_the_core_no_study(module):
    own = _study_of(module)
    for imported in direct_imports(module):
        assert _study_of(imported) in (None, own), f"{module} imports {imported}"


def _functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_function_over_40_lines(path):
    tree = ast.parse(path.read_text())
    long = [f"{f.name} ({f.end_lineno - f.lineno + 1} lines)" for f in _functions(tree)
            if f.end_lineno - f.lineno + 1 > 40]
    assert not long, long

"""The package's import graph, read from the code itself, and each stage's code digest.

Snakemake does not notice edits to imported modules, so every rule carries a digest of exactly the
package modules its job imports, directly or transitively, including imports inside functions (read with
`ast`, never executed). A job's entry points are its stage module under `attndyn.jobs` and the study's
module for that stage (`attndyn.studies.STAGE_MODULES`, the registry's one dynamic import).
"""
from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).parent
ROOT = PACKAGE.name                                   # "attndyn"


@cache
def module_path(name: str) -> Path | None:
    """The source file of a package module ('attndyn.a.b' -> a/b.py or a/b/__init__.py), None if not ours."""
    parts = name.split(".")
    if parts[0] != ROOT:
        return None
    base = PACKAGE.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = [ROOT, *rel.parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(node: ast.ImportFrom, current: str, is_package: bool) -> str:
    """The module an `from X import ...` names, with relative levels resolved against `current`."""
    if not node.level:
        return node.module or ""
    base = current.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


@cache
def direct_imports(name: str) -> frozenset[str]:
    """Package modules that module `name` imports anywhere in its source (module level or inside functions)."""
    path = module_path(name)
    if path is None:
        return set()
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(node, name, path.name == "__init__.py")
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)   # `from pkg import module`
    return frozenset(m for m in found if module_path(m) is not None)


def _with_parents(name: str) -> set[str]:
    """Importing a.b.c runs the __init__ of a and a.b too."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def closure(entries: list[str]) -> set[str]:
    """Every package module imported, transitively, by the entry modules (the entries included)."""
    seen: set[str] = set()
    todo = [p for e in entries for p in _with_parents(e) if module_path(p) is not None]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(p for m in direct_imports(name) for p in _with_parents(m) if module_path(p) and p not in seen)
    return seen


def stage_entries(study: str, stage: str) -> list[str]:
    """The modules a stage's job starts from: its job module, the job log every workflow script wraps it in
    (workflow/scripts/*.py), and the study's module for that stage."""
    from .studies import STAGE_MODULES, get_study

    package = get_study(study).package
    return [f"{ROOT}.jobs.{stage}", f"{ROOT}.jobs.log"] + [f"{package}.{m}" for m in STAGE_MODULES[stage]]


def stage_modules(study: str, stage: str) -> set[str]:
    return closure(stage_entries(study, stage))


@cache
def code_digest(study: str, stage: str) -> str:
    """SHA-256 of the sources of every module a stage's job imports (a Snakemake params rerun trigger).

    Cached: sources do not change while Snakemake builds its DAG."""
    digest = hashlib.sha256()
    for name in sorted(stage_modules(study, stage)):
        path = module_path(name)
        digest.update(str(path.relative_to(PACKAGE)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]

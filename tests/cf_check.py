"""Run the CF checker (the `cfchecker` package, UDUNITS from Debian's libudunits2) on a netCDF file, offline."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

TABLES = Path(__file__).with_name("cf")


def checker():
    """The CFChecker and CFVersion classes, or skip (fail under CI, which installs it: .ci/run)."""
    try:
        from cfchecker.cfchecks import CFChecker, CFVersion
    except (ImportError, OSError) as exc:                # OSError: libudunits2 missing
        if os.environ.get("CI"):
            raise
        pytest.skip(f"cfchecker unavailable: {exc}")
    return CFChecker, CFVersion


def cf_problems(path: str | Path) -> list[str]:
    """Every FATAL, ERROR and WARN message the CF checker reports for the file (or that it could not check it)."""
    CFChecker, CFVersion = checker()
    check = CFChecker(cfStandardNamesXML=str(TABLES / "standard-names.xml"),
                      cfAreaTypesXML=str(TABLES / "area-types.xml"),
                      cfRegionNamesXML=str(TABLES / "region-names.xml"), silent=True, version=CFVersion())
    try:
        results = check.checker(str(path))
    except Exception as exc:                       # e.g. a string coordinate variable breaks its monotonic check
        return [f"checker FATAL: it failed on the file: {type(exc).__name__}: {exc}"]
    found = [f"global {level}: {m}" for level in ("FATAL", "ERROR", "WARN") for m in results["global"][level]]
    for name, levels in results["variables"].items():
        found += [f"{name} {level}: {m}" for level in ("FATAL", "ERROR", "WARN") for m in levels.get(level, [])]
    return found

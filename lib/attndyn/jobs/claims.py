"""Stage `claims`: each study's claims checked by numbers, then one joined table."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..claims import concat_claims, read_claims, write_claims
from ..claims_html import write_claims_page
from ..studies import get_study
from ..maps import PREFIX as MAP_PREFIX
from ..results import read_experiments, read_netcdf
from .common import record_imports

if TYPE_CHECKING:
    from ..claims import Claim


def run_claims(config: dict, study: str, inputs: list[str], out: str, maps: list[str] = (),
               html: str | None = None) -> None:
    """The study's claim rows, then one summary row per claim map (where on its grid the claim holds); the CSV
    and, with `html`, the table as a page."""
    handle = get_study(study)
    experiments = {name: ds for name, ds in read_experiments(inputs).items() if not name.startswith(MAP_PREFIX)}
    rows = handle.claims(experiments, handle.settings(config[study], config))
    rows += [map_row(read_netcdf(path)) for path in maps]
    write_claims(rows, out, scale=config["scale"])
    if html:
        write_claims_page({study: read_claims(out)}, html)
    record_imports("claims", study)


def run_join_claims(inputs: list[str], out: str, html: str | None = None) -> None:
    """results/claims.csv (every study's rows) and, with `html`, every study's table on one page."""
    files = {Path(p).parent.name: p for p in inputs}
    concat_claims(files, out)
    if html:
        write_claims_page({study: read_claims(path) for study, path in files.items()}, html)


def map_row(result) -> "Claim":
    """claims.csv's summary of one map: on how much of its grid the claim holds, and where it fails."""
    from ..claims import Claim
    from ..mapdata import summary

    holds, mixed, fails, failing = summary(result)
    total = holds + mixed + fails
    where = "; fails (some seed) at " + "; ".join(failing[:12]) + (" ..." if len(failing) > 12 else "") \
        if failing else ""
    return Claim(f"map {result.attrs['map']}: {result.attrs['claim']}",
                 f"{result.attrs['criterion']}, per grid point and seed, over {result.attrs['axes']}",
                 f"holds in every seed at {holds} of {total} grid points ({holds / total:.0%}), in some seeds at "
                 f"{mixed}, in none at {fails}{where}", holds == total,
                 fails_if="a grid point where some seed does not meet the criterion (the map shows where)",
                 source=result.attrs["claim_source"], depends_on=f"fixed: {result.attrs['fixed']}")

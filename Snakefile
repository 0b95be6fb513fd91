# Attention training-dynamics pipeline. Thin by design: config, validation, rules, targets.
# All logic lives in the `attndyn` package (lib/attndyn); see ../shared/DESIGN.md for the contract.
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "lib"))  # this tree's package, as in every job (scripts/_package.py)
from attndyn.codegraph import code_digest
from attndyn.history import set_history
from attndyn.notices import pending
from attndyn.workflow import plan_or_exit, rst_text

# netCDF/HDF5 file locking fails on NFS/Lustre; set here because the Snakefile is parsed both by the
# submitting process (sbatch --export=ALL passes its environment on) and inside every cluster job.
os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


PLAN = plan_or_exit(config)  # defaults filled in place; one clear line naming the key, before any job runs
RESULTS = "results"
if workflow.is_main_process:  # jobs re-parse this file: their notices would repeat
    set_history(sys.argv[1:], workflow.configfiles)  # the CF `history` of every netCDF file (jobs inherit it)
    for text in pending():
        print(text, file=sys.stderr)


wildcard_constraints:
    study=r"[A-Za-z0-9_]+",
    experiment=r"[A-Za-z0-9_]+",
    cell=r"[A-Za-z0-9_.=+-]+",
    dataset=r"[A-Za-z0-9_.=+-]+",
    figure=r"[A-Za-z0-9_]+",
    map=r"[A-Za-z0-9_]+",


localrules:
    all,
    all_claims,  # target + CSV concatenation: not worth a cluster job


include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/claims.smk"
include: "workflow/rules/maps.smk"


rule all:
    input:
        PLAN.final_targets(RESULTS),

# Thin adapter: Snakemake rule `sensitivity` -> attndyn.jobs.sensitivity.run_sensitivity
import _package  # noqa: F401
from attndyn.jobs.log import job_log
from attndyn.jobs.sensitivity import run_sensitivity

with job_log(snakemake.log[0], "sensitivity"):
    run_sensitivity(list(snakemake.input), snakemake.output.csv, snakemake.output.html)

# Thin adapter: Snakemake rule `data` -> attndyn.jobs.data.run_data (its log: the rule's log file)
import _package  # noqa: F401
from attndyn.jobs.data import run_data
from attndyn.jobs.log import job_log

with job_log(snakemake.log[0], "data"):
    run_data(snakemake.wildcards.study, snakemake.params.settings, snakemake.output[0])

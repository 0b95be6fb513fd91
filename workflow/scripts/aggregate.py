# Thin adapter: Snakemake rule `aggregate` -> attndyn.jobs.aggregate.run_aggregate
import _package  # noqa: F401
from attndyn.jobs.aggregate import run_aggregate
from attndyn.jobs.log import job_log

w = snakemake.wildcards
with job_log(snakemake.log[0], "aggregate"):
    run_aggregate(snakemake.config, w.study, w.experiment, list(snakemake.params.axes), list(snakemake.input.cells),
                  snakemake.output[0])

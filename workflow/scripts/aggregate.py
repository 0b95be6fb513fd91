# Thin adapter: Snakemake rule `aggregate` -> attndyn.jobs.run_aggregate
from attndyn.jobs import run_aggregate

w = snakemake.wildcards
run_aggregate(snakemake.config, w.study, w.experiment, list(snakemake.input.cells), snakemake.output[0])

# Thin adapter: Snakemake rule `aggregate` -> attndyn.jobs.aggregate.run_aggregate
from attndyn.jobs.aggregate import run_aggregate

w = snakemake.wildcards
run_aggregate(snakemake.config, w.study, w.experiment, list(snakemake.params.axes), list(snakemake.input.cells),
              snakemake.output[0])

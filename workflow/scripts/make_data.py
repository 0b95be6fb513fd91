# Thin adapter: Snakemake rule `data` -> attndyn.jobs.run_data
from attndyn.jobs import run_data

run_data(snakemake.config, snakemake.wildcards.study, snakemake.wildcards.dataset, snakemake.output[0])

# Thin adapter: Snakemake rule `data` -> attndyn.jobs.data.run_data
from attndyn.jobs.data import run_data

run_data(snakemake.wildcards.study, snakemake.params.settings, snakemake.output[0])

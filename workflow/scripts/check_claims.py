# Thin adapter: Snakemake rule `claims` -> attndyn.jobs.run_claims
from attndyn.jobs import run_claims

run_claims(snakemake.config, snakemake.wildcards.study, list(snakemake.input.experiments), snakemake.output[0])

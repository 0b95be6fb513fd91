# Thin adapter: Snakemake rule `claims` -> attndyn.jobs.claims.run_claims
from attndyn.jobs.claims import run_claims

run_claims(snakemake.config, snakemake.wildcards.study, list(snakemake.input.experiments), snakemake.output[0],
           maps=list(snakemake.input.maps))

# Thin adapter: Snakemake rule `all_claims` -> attndyn.jobs.claims.run_join_claims
from attndyn.jobs.claims import run_join_claims

run_join_claims(list(snakemake.input), snakemake.output[0])

# Thin adapter: Snakemake rule `all_claims` -> attndyn.jobs.claims.run_join_claims
import _package  # noqa: F401
from attndyn.jobs.claims import run_join_claims
from attndyn.jobs.log import job_log

with job_log(snakemake.log[0], "all_claims"):
    run_join_claims(list(snakemake.input), snakemake.output.csv, html=snakemake.output.html)

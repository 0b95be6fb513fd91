# Thin adapter: Snakemake rule `claims` -> attndyn.jobs.claims.run_claims
import _package  # noqa: F401
from attndyn.jobs.claims import run_claims
from attndyn.jobs.log import job_log

with job_log(snakemake.log[0], "claims"):
    run_claims(snakemake.config, snakemake.wildcards.study, list(snakemake.input.experiments),
               snakemake.output.csv, maps=list(snakemake.input.maps), html=snakemake.output.html)

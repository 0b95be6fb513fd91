# Thin adapter: Snakemake rule `map` -> attndyn.jobs.maps.run_map
import _package  # noqa: F401
from attndyn.jobs.log import job_log
from attndyn.jobs.maps import run_map

w = snakemake.wildcards
with job_log(snakemake.log[0], "map"):
    run_map(snakemake.config, w.study, w.map, snakemake.input.experiment, snakemake.output.nc, snakemake.output.png,
            snakemake.output.pdf, snakemake.params.caption)

# Thin adapter: Snakemake rule `map` -> attndyn.jobs.maps.run_map
from attndyn.jobs.maps import run_map

w = snakemake.wildcards
run_map(snakemake.config, w.study, w.map, snakemake.input.experiment, snakemake.output.nc, snakemake.output.png,
        snakemake.output.pdf, snakemake.params.caption)

# Thin adapter: Snakemake rule `figure` -> attndyn.jobs.figures.run_figure
from attndyn.jobs.figures import run_figure

w = snakemake.wildcards
run_figure(snakemake.config, w.study, w.figure, list(snakemake.input.experiments),
           snakemake.output.png, snakemake.output.pdf, snakemake.params.caption)

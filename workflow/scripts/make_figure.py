# Thin adapter: Snakemake rule `figure` -> attndyn.jobs.figures.run_figure
import _package  # noqa: F401
from attndyn.jobs.figures import run_figure
from attndyn.jobs.log import job_log

w = snakemake.wildcards
with job_log(snakemake.log[0], "figure"):
    run_figure(snakemake.config, w.study, w.figure, list(snakemake.input.experiments),
               snakemake.output.png, snakemake.output.pdf, snakemake.params.caption)

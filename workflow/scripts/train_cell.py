# Thin adapter: Snakemake rule `train` -> attndyn.jobs.train.run_train (its log: cell, settings, progress)
import _package  # noqa: F401
from attndyn.jobs.log import job_log
from attndyn.jobs.train import run_train

with job_log(snakemake.log[0], "train"):
    run_train(snakemake.config, snakemake.wildcards.study, snakemake.params.cell, snakemake.params.code,
              list(snakemake.input.data), snakemake.output[0], needed=list(snakemake.input.needs))

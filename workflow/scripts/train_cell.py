# Thin adapter: Snakemake rule `train` -> attndyn.jobs.train.run_train
from attndyn.jobs.train import run_train

run_train(snakemake.config, snakemake.wildcards.study, snakemake.params.cell, snakemake.params.code,
          list(snakemake.input.data), snakemake.output[0], needed=list(snakemake.input.needs))

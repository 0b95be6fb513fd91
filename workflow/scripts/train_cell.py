# Thin adapter: Snakemake rule `train` -> attndyn.jobs.run_train
from attndyn.jobs import run_train

w = snakemake.wildcards
run_train(snakemake.config, w.study, w.experiment, w.cell, snakemake.input.data, snakemake.output[0],
          needed=list(snakemake.input.needs))

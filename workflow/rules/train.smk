# Stage 2: one job per sweep cell; all seeds of the cell train together as a batched ensemble.
# `params.cell` (the cell's typed settings as JSON) and `params.code` (a digest of the package modules the
# train job imports) are rerun triggers: a changed learning rate reruns only the cells using it.
# A cell may also read other cells' files (CellSpec.needs); those cells get a higher priority.
rule train:
    input:
        data=lambda wc: PLAN.cell_data(wc.study, wc.experiment, wc.cell, RESULTS),
        needs=lambda wc: PLAN.needed_cell_paths(wc.study, wc.experiment, wc.cell, RESULTS),
    output:
        f"{RESULTS}/{{study}}/cells/{{experiment}}/{{cell}}.nc",
    log:
        f"logs/{{study}}/train/{{experiment}}/{{cell}}.log",
    priority: lambda wc: PLAN.cell_priority(wc.study, wc.experiment, wc.cell)
    conda:
        "../envs/attndyn.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        cell=lambda wc: PLAN.cell_params(wc.study, wc.experiment, wc.cell),
        code=lambda wc: code_digest(wc.study, "train"),
    script:
        "../scripts/train_cell.py"

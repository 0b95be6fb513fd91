# Stage 3: one xarray Dataset per experiment, sweep axes as dimensions.
rule aggregate:
    input:
        cells=lambda wc: PLAN.cell_paths(wc.study, wc.experiment, RESULTS),
    output:
        f"{RESULTS}/{{study}}/{{experiment}}.nc",
    log:
        f"logs/{{study}}/aggregate/{{experiment}}.log",
    conda:
        "../envs/attndyn.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        axes=lambda wc: list(PLAN.studies[wc.study].axes[wc.experiment]),
        code=lambda wc: code_digest(wc.study, "aggregate"),
    script:
        "../scripts/aggregate.py"

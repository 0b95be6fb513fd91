# Stage 1: one seeded data file per data configuration (all seeds stacked).
rule data:
    output:
        f"{RESULTS}/{{study}}/data/{{dataset}}.npz",
    log:
        f"logs/{{study}}/data/{{dataset}}.log",
    conda:
        "../envs/attndyn.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        settings=lambda wc: PLAN.dataset_params(wc.study, wc.dataset),
        code=lambda wc: code_digest(wc.study, "data"),
    script:
        "../scripts/make_data.py"

# Stage 4: one job per figure (PNG + PDF), from the experiment datasets it needs.
rule figure:
    input:
        experiments=lambda wc: [f"{RESULTS}/{wc.study}/{e}.nc" for e in PLAN.figure(wc.study, wc.figure).experiments],
    output:
        png=report(f"{RESULTS}/{{study}}/figures/{{figure}}.png", category="{study}", caption="../report/figure.rst"),
        pdf=f"{RESULTS}/{{study}}/figures/{{figure}}.pdf",
    log:
        f"logs/{{study}}/figure/{{figure}}.log",
    conda:
        "../envs/attndyn.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        caption=lambda wc: PLAN.caption(wc.study, wc.figure),
        report_caption=lambda wc: rst_text(PLAN.caption(wc.study, wc.figure)),
        settings=lambda wc: PLAN.study_params(wc.study),
        code=lambda wc: code_digest(wc.study, "figures"),
    script:
        "../scripts/make_figure.py"

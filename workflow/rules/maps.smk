# Stage 6: claim maps, where a claim holds over one or two settings (one netCDF and one heatmap per map).
rule map:
    input:
        experiment=lambda wc: f"{RESULTS}/{wc.study}/{PLAN.map_experiment(wc.study, wc.map)}.nc",
    output:
        nc=f"{RESULTS}/{{study}}/maps/{{map}}.nc",
        png=report(
            f"{RESULTS}/{{study}}/maps/{{map}}.png",
            category="{study}",
            subcategory="claim maps",
            caption="../report/figure.rst",
        ),
        pdf=f"{RESULTS}/{{study}}/maps/{{map}}.pdf",
    log:
        f"logs/{{study}}/map/{{map}}.log",
    conda:
        "../envs/attndyn.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        caption=lambda wc: PLAN.map_caption(wc.study, wc.map),
        report_caption=lambda wc: rst_text(PLAN.map_caption(wc.study, wc.map)),
        settings=lambda wc: PLAN.study_params(wc.study),
        code=lambda wc: code_digest(wc.study, "maps"),
    script:
        "../scripts/make_map.py"

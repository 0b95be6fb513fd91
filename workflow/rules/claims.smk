# Stage 5: each study's claims checked by numbers, then one joined table.
rule claims:
    input:
        experiments=lambda wc: PLAN.experiment_paths(wc.study, RESULTS),
        maps=lambda wc: PLAN.map_paths(wc.study, RESULTS),
    output:
        csv=f"{RESULTS}/{{study}}/claims.csv",
        html=report(
            f"{RESULTS}/{{study}}/claims.html",
            category="{study}",
            subcategory="claims",
            caption="../report/claims.rst",
        ),
    log:
        "logs/{study}/claims.log",
    conda:
        "../envs/attndyn.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=lambda wc: PLAN.study_params(wc.study),
        code=lambda wc: code_digest(wc.study, "claims"),
    script:
        "../scripts/check_claims.py"


rule all_claims:
    input:
        expand(f"{RESULTS}/{{study}}/claims.csv", study=config["studies"]),
    output:
        csv=report(f"{RESULTS}/claims.csv", category="claims", caption="../report/claims_csv.rst"),
        html=report(f"{RESULTS}/claims.html", category="claims", caption="../report/claims.rst"),
    log:
        "logs/all_claims.log",
    conda:
        "../envs/attndyn.yaml"
    script:
        "../scripts/join_claims.py"


rule sensitivity:
    input:
        [path for study in config["studies"] for path in PLAN.map_paths(study, RESULTS)],
    output:
        csv=report(f"{RESULTS}/sensitivity.csv", category="claims", caption="../report/sensitivity.rst"),
        html=report(f"{RESULTS}/sensitivity.html", category="claims", caption="../report/sensitivity.rst"),
    log:
        "logs/sensitivity.log",
    conda:
        "../envs/attndyn.yaml"
    script:
        "../scripts/sensitivity.py"

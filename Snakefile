# Attention training-dynamics pipeline. Thin by design: config, validation, rules, targets.
# All logic lives in the `attndyn` package (lib/attndyn); see ../shared/DESIGN.md for the contract.
from attndyn.workflow import Plan, code_digest, validate_or_exit

configfile: "config/config.yaml"

validate_or_exit(config)          # one clear line naming the key, before any job runs
PLAN = Plan(config)
RESULTS = "results"

wildcard_constraints:
    study=r"[A-Za-z0-9_]+",
    experiment=r"[A-Za-z0-9_]+",
    cell=r"[A-Za-z0-9_.=+-]+",
    dataset=r"[A-Za-z0-9_.=+-]+",
    figure=r"[A-Za-z0-9_]+",

include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/claims.smk"


rule all:
    input:
        PLAN.final_targets(RESULTS),

# Stage 5: the paper's claims next to ours on every seed, from the tidy outputs only.
from inputgrad.sections.report.claims import claim_files, load_claims


rule paper_report:
    input:
        claims=CLAIMS,
        section_claims=SECTION_CLAIMS,  # config/claims/<section>.yaml, in section order
        # what made each model (the paper seed's), as its training rule saved it
        configs=[results(f"models/{m}/seed{PAPER_SEED}/config.yaml") for m in MODELS],
        # a training job's record (the first model's, paper seed): its machine's provenance
        training=TRACKED[next(r for r, e in TRACKED.items() if e["training"])]["path"].format(
            model=MODELS[0], seed=PAPER_SEED
        ),
        # every claim's result file on every seed (`{seed}` expanded over SEEDS)
        results=[results(f) for f in claim_files(load_claims(CLAIMS, SECTION_CLAIMS), SEEDS)],
        # what the sections registered (register_section): the paper seed's tables, shown
        # next to the paper's rows, the across-seed tables and the figures
        tables=REGISTERED["tables"],
        seed_tables=REGISTERED["seed_tables"],
        figures=REGISTERED["figures"],
    output:
        html=report(
            results("paper_report.html"),
            caption="../report/paper_report.rst",
            category="Report",
        ),
        md=results("paper_report.md"),
        claims=report(
            results("tables/paper_report.csv"),
            caption="../report/paper_report_claims.rst",
            category="Report",
        ),
        record=record("paper_report", None, "report", across=True),
    log:
        logs("paper_report"),
    benchmark:
        bench("paper_report")
    conda:
        ENV
    resources:
        **resources_of("paper_report"),
    params:
        cfg={"seeds": SEEDS},
    script:
        "../scripts/paper_report.py"

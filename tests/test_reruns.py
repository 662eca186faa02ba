"""Each rule is fed only the keys it reads (issue 20, item 4): after the smoke workflow, one
edit at a time in a copy, and Snakemake's dry run says which jobs it would run.

- an attribution-only key reruns its own rule and what reads its output, never a training;
- a figure key reruns only figures (and the report, which embeds them);
- a claim's wording reruns only the report;
- an execution key (no number depends on it) reruns nothing;
- a training key retrains its model only, and what depends on it.
The smoke profile's values live in each experiment's `smoke:` section, so edits go there when
the key is set there (the value in effect)."""

import shutil

import pytest

from test_mlflow_and_reruns import dry_run, edited_copy
from workflow_utils import ROOT, copy_project, copy_repo, snakemake


def setting(dotted: str, value):
    """An edit of a loaded YAML document: the key at the dotted path becomes `value`."""
    def edit(doc):
        *parents, last = dotted.split(".")
        node = doc
        for key in parents:
            node = node[key]
        assert last in node, f"{dotted} is not in the file"
        node[last] = value

    return edit


def trainings(rules):
    return [r for r in rules if r.startswith(("train_", "prepare_", "download"))]


def reason(out: str, rule: str) -> str:
    """The dry run's block for the first job of `rule`."""
    return out[out.index(f"rule {rule}:"):].split("\nrule ", 1)[0]


# (Hydra file, key, new value, the rule that must rerun, rules that must not)
ATTRIBUTION_EDITS = [
    # the edit of the issue: a performance knob of the CNN's gradient pass
    ("experiment/imdb_cnn.yaml", "smoke.attribution.batch_size", 16,
     "imdb_cnn_word_gradients", ()),
    ("experiment/imdb_cnn.yaml", "smoke.attribution.table.random_reviews", 2,
     "table1_expressions", ("imdb_cnn_word_gradients",)),
    ("experiment/imdb_bow_mlp.yaml", "smoke.attribution.top_k", 4,
     "table2_words", ("imdb_bow_gbar",)),
    ("experiment/mnist_mlp.yaml", "smoke.attribution.batch_size", 16, "mnist_jacobian", ()),
    ("experiment/checks.yaml", "smoke.attribution.deletion.ks", [0, 5, 10],
     "attribution_deletion", ("attribution_sanity",)),
    # a method's option (the one methods config; smoke values in the experiment): only the
    # evaluations that score that method rerun
    ("experiment/checks.yaml", "smoke.attribution.method_options.integrated_gradients.steps",
     6, "attribution_deletion", ("attribution_sanity", "text_faithfulness")),
    ("experiment/text_faithfulness.yaml", "smoke.attribution.method_options.lime.samples", 30,
     "text_faithfulness", ("bow_faithfulness",)),
    ("experiment/text_faithfulness.yaml", "smoke.attribution.sample.cnn_reviews", 5,
     "text_faithfulness", ("bow_faithfulness",)),
    ("experiment/text_faithfulness.yaml", "smoke.attribution.logistic_regression.max_iter", 90,
     "bow_faithfulness", ("text_faithfulness",)),
    ("experiment/sensitivity.yaml", "smoke.attribution.fgsm.n", 40,
     "fgsm_robustness", ("taylor_validity",)),
    ("experiment/anomaly.yaml", "smoke.attribution.anomaly.batch_size", 16,
     "gradient_anomaly", ("grouped_deletion",)),
]


@pytest.mark.parametrize("relpath,key,value,reruns,kept", ATTRIBUTION_EDITS,
                         ids=[f"{e[0].split('/')[1][:-5]}:{e[1]}" for e in ATTRIBUTION_EDITS])
def test_attribution_key_reruns_its_rule_and_no_training(smoke_run, tmp_path, relpath, key,
                                                         value, reruns, kept):
    work = edited_copy(smoke_run, tmp_path, relpath, setting(key, value))
    rules, out = dry_run(work)
    assert reruns in rules, out[-3000:]
    assert "Params have changed" in reason(out, reruns)
    assert not trainings(rules), out[-3000:]
    assert not set(kept) & set(rules), out[-3000:]


FIGURE_EDITS = ["imdb_cnn", "imdb_bow_mlp", "mnist_mlp", "checks", "text_faithfulness",
                "sensitivity", "anomaly"]


@pytest.mark.parametrize("experiment", FIGURE_EDITS)
def test_figure_key_reruns_only_figures_and_the_report(smoke_run, tmp_path, experiment):
    work = edited_copy(smoke_run, tmp_path, f"experiment/{experiment}.yaml",
                       setting("figure.dpi", 77))
    rules, out = dry_run(work)
    # the report reruns too where it embeds that figure (not the checks' figure)
    figures = [r for r in rules if r != "paper_report"]
    assert figures and all(r.endswith("_figure") for r in figures), out[-3000:]
    assert "Params have changed" in reason(out, figures[0])


MODELS = ["mnist_mlp", "mnist_logreg", "imdb_cnn", "imdb_bow_mlp"]


@pytest.mark.parametrize("model", MODELS)
def test_execution_key_reruns_nothing(smoke_run, tmp_path, model):
    """train.steps_per_execution changes no weight (tests/test_train_speed.py)."""
    work = edited_copy(smoke_run, tmp_path, f"train/{model}.yaml",
                       setting("steps_per_execution", 3))
    rules, out = dry_run(work)
    assert rules == [], out[-3000:]


def test_training_key_retrains_that_model_only(smoke_run, tmp_path):
    work = edited_copy(smoke_run, tmp_path, "experiment/mnist_mlp.yaml",
                       setting("smoke.train.epochs", 3))
    rules, out = dry_run(work)
    assert "train_mnist" in rules and "mnist_jacobian" in rules, out[-3000:]
    assert "Params have changed" in reason(out, "train_mnist")
    assert not {"train_imdb_cnn", "train_imdb_bow_mlp", "prepare_mnist"} & set(rules)
    assert "wildcards: model=mnist_logreg" not in out.split("rule train_mnist:", 1)[1].split(
        "\nrule ", 1)[0]


def test_claim_wording_reruns_only_the_report(smoke_run, tmp_path):
    """The claims file lives in the repository: a copy of the workflow with one claim's
    wording changed, run on a copy of the finished project."""
    repo = copy_repo(tmp_path / "repo")
    claims = repo / "config" / "paper_claims.yaml"
    wording = "Review length thresholded to [L] words"
    text = claims.read_text()
    assert wording in text
    claims.write_text(text.replace(wording, wording + ", reworded", 1))
    work = tmp_path / "work"
    copy_project(smoke_run["work"], work)
    shutil.copytree(ROOT / "config" / "hydra", work / "hydra")
    _, out = snakemake(work, "-n", "--config", f"hydra_dir={work / 'hydra'}", "--cores", "1",
                       snakefile=repo / "Snakefile")
    rules = sorted({line.split()[1].rstrip(":") for line in out.splitlines()
                    if line.startswith("rule ")} - {"all"})
    assert rules == ["paper_report", "track_evaluation"], out[-3000:]

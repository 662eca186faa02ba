from mlflow.tracking import MlflowClient

from inputgrad.tracking import Tracker, flatten, read_id


def test_experiment_once_runs_params_metrics_artifacts(tmp_path):
    tracker = Tracker.for_results(tmp_path)
    exp = tracker.ensure_experiment("demo", tmp_path / "artifacts")
    assert tracker.ensure_experiment("demo") == exp
    run_id = tracker.start_run(exp, "model-seed0", tmp_path / "run_id.txt", tags={"seed": "0"})
    assert read_id(tmp_path / "run_id.txt") == run_id
    tracker.log_params(run_id, {"train": {"epochs": 2, "hidden": [4, 4]}, "seed": 0})
    for step, loss in enumerate([0.9, 0.5]):
        tracker.log_metrics(run_id, {"loss": loss}, step=step)
    table = tmp_path / "table.csv"
    table.write_text("a,b\n1,2\n")
    # a later stage reopens the same run by its id file
    reopened = Tracker.for_results(tmp_path)
    reopened.log_artifact(read_id(tmp_path / "run_id.txt"), table, "tables")
    reopened.finish(run_id)

    client = MlflowClient(tracker.uri)
    run = client.get_run(run_id)
    assert run.data.params == {"train.epochs": "2", "train.hidden": "[4, 4]", "seed": "0"}
    assert [m.value for m in client.get_metric_history(run_id, "loss")] == [0.9, 0.5]
    assert [a.path for a in client.list_artifacts(run_id, "tables")] == ["tables/table.csv"]
    assert run.info.status == "FINISHED"
    assert len(client.search_runs([exp])) == 1


def test_flatten():
    assert flatten({"a": {"b": 1, "c": [1, 2]}, "d": "x"}) == {"a.b": "1", "a.c": "[1, 2]", "d": "x"}


def test_log_to_runs_from_either_anchor_skips_nonfinite_metrics(tmp_path):
    import math

    import pytest

    from inputgrad.tracking import log_to_runs, results_dir_of

    results = tmp_path / "results"
    tracker = Tracker.for_results(results)
    exp = tracker.ensure_experiment("demo")
    (results / "mlflow" / "experiment_id.txt").write_text(exp + "\n")
    id_file = results / "models" / "m" / "seed0" / "run_id.txt"
    run_id = tracker.start_run(exp, "m-seed0", id_file)
    assert results_dir_of(id_file) == results_dir_of(results / "mlflow/experiment_id.txt")
    with pytest.raises(ValueError, match="experiment_id.txt or run_id.txt"):
        results_dir_of(tmp_path / "other.txt")
    table = tmp_path / "t.csv"
    table.write_text("a\n1\n")
    log_to_runs(id_file, None, [id_file], [table], "tables",
                configs={"figure": {"dpi": 72}}, metrics={"ok": 0.5, "undefined": math.nan})
    client = MlflowClient(tracker.uri)
    assert client.get_run(run_id).data.metrics == {"ok": 0.5}
    assert {a.path for a in client.list_artifacts(run_id)} == {"tables", "config"}
    assert results_dir_of(id_file) == results.resolve()

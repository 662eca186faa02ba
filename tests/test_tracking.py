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

"""The stage contract's shared path, `infra.stage.main(snakemake, run)`, with a stand-in for the
`snakemake` object a rule's script gets: named inputs/outputs/params as Snakemake's own
Namedlist, the rule's log, the declared tracking and named errors."""

import logging
import os
from types import SimpleNamespace

import pytest
from snakemake.iocontainers import Namedlist

from inputgrad.infra import stage
from inputgrad.infra.errors import ConfigError, DataError
from inputgrad.infra.records import load_record


def namedlist(**entries) -> Namedlist:
    """As Snakemake builds them: a list-valued entry is a named slice of the flat list."""
    items = Namedlist()
    for key, value in entries.items():
        start = len(items)
        if isinstance(value, list):
            items.extend(value)
            items._set_name(key, start, len(items))
        else:
            items.append(value)
            items._set_name(key, start)
    return items


@pytest.fixture
def fake_snakemake(tmp_path, monkeypatch):
    """A rule `x` with one single and one list-valued input, one output and a log."""
    for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):  # main() sets them
        monkeypatch.delenv(name, raising=False)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    smk = SimpleNamespace(
        input=namedlist(data=str(tmp_path / "in.npz"),
                        run_ids=[str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]),
        output=namedlist(table=str(tmp_path / "out.csv")),
        params=namedlist(cfg={"top_k": 5}, seed=3),
        log=[str(tmp_path / "x.log")],
        rule="x",
        threads=1,
        resources=namedlist(mem_mb=1000, runtime=2),
    )
    yield smk
    for handler in root.handlers:  # main() pointed logging at the rule's log: undo that
        if handler not in handlers:
            handler.close()
    root.handlers[:], root.level = handlers, level


def log_lines(smk) -> list[str]:
    with open(smk.log[0]) as fh:
        return fh.read().splitlines()


def test_run_gets_plain_named_dicts(fake_snakemake, tmp_path):
    seen = {}

    def run(inputs, outputs, params):
        seen.update(inputs=inputs, outputs=outputs, params=params)
        logging.getLogger("inputgrad.test").info("stage ran")

    stage.main(fake_snakemake, run)
    assert seen["inputs"] == {"data": str(tmp_path / "in.npz"),
                              "run_ids": [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]}
    assert type(seen["inputs"]["run_ids"]) is list  # a plain list, not a Namedlist
    assert seen["outputs"] == {"table": str(tmp_path / "out.csv")}
    assert seen["params"] == {"cfg": {"top_k": 5}, "seed": 3}
    assert any("stage ran" in line for line in log_lines(fake_snakemake))


@pytest.mark.parametrize("error", [ConfigError("config key 'top_k': -1 is negative"),
                                   DataError("mnist.npz: checksum mismatch")])
def test_named_error_is_one_log_line_and_exit_1(fake_snakemake, error):
    def run(inputs, outputs, params):
        raise error

    with pytest.raises(SystemExit) as exit_info:
        stage.main(fake_snakemake, run)
    assert exit_info.value.code == 1
    lines = log_lines(fake_snakemake)
    assert len(lines) == 1, lines
    assert f"x: {error}" in lines[0] and "ERROR" in lines[0]
    assert "Traceback" not in "\n".join(lines)


def test_other_errors_keep_their_traceback(fake_snakemake):
    def run(inputs, outputs, params):
        raise KeyError("bug")

    with pytest.raises(KeyError, match="bug"):
        stage.main(fake_snakemake, run)


def test_a_declared_record_holds_the_job_and_its_metrics(fake_snakemake, tmp_path):
    record = tmp_path / "records" / "x.json"
    fake_snakemake.output = namedlist(table=str(tmp_path / "out.csv"), record=str(record))
    seen = {}

    def run(inputs, outputs, params):
        seen["outputs"] = outputs
        return {"seconds": 2.0, "auroc": float("nan")}

    stage.main(fake_snakemake, run)
    assert seen["outputs"] == {"table": str(tmp_path / "out.csv")}  # not the stage's to write
    written = load_record(record)
    assert written["rule"] == "x"
    assert written["inputs"]["run_ids"] == list(fake_snakemake.input.run_ids)
    assert written["outputs"] == {"table": str(tmp_path / "out.csv")}
    assert written["params"] == {"cfg": {"top_k": 5}, "seed": 3}
    assert written["metrics"] == {"seconds": 2.0, "auroc": None}  # non-finite: not logged
    assert 0 <= written["ended_ms"] - written["started_ms"] < 60_000
    assert written["provenance"] == {}  # only a training rule notes the machine


def test_a_stage_never_imports_mlflow(fake_snakemake, tmp_path):
    """The shared path of a tracked compute job writes its record without MLflow (a fresh
    interpreter, so nothing imported by other tests counts)."""
    import subprocess
    import sys

    code = (
        "import sys, json\n"
        "from types import SimpleNamespace\n"
        "from snakemake.iocontainers import Namedlist\n"
        "from inputgrad.infra import stage\n"
        "def nl(**kw):\n"
        "    items = Namedlist()\n"
        "    for k, v in kw.items():\n"
        "        items.append(v); items._set_name(k, len(items) - 1)\n"
        "    return items\n"
        f"smk = SimpleNamespace(input=nl(), output=nl(record={str(tmp_path / 'r.json')!r}),\n"
        "    params=nl(), log=[], rule='x', threads=1, resources=nl())\n"
        "stage.main(smk, lambda i, o, p: {'m': 1.0})\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'mlflow')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
    assert load_record(tmp_path / "r.json")["metrics"] == {"m": 1.0}


def test_no_record_is_written_when_the_stage_fails(fake_snakemake, tmp_path):
    record = tmp_path / "x.json"
    fake_snakemake.output = namedlist(record=str(record))

    def run(inputs, outputs, params):
        raise DataError("mnist.npz: checksum mismatch")

    with pytest.raises(SystemExit):
        stage.main(fake_snakemake, run)
    assert not record.exists()
    assert "x: mnist.npz: checksum mismatch" in log_lines(fake_snakemake)[-1]


def test_tensorflow_threads_follow_the_job(fake_snakemake, monkeypatch):
    seen = {}
    stage.main(fake_snakemake, lambda i, o, p: seen.update(p))
    assert os.environ["TF_NUM_INTRAOP_THREADS"] == os.environ["TF_NUM_INTEROP_THREADS"] == "1"
    # a rule that pins its count (the CNN's training) gets it, and the param is not passed on
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS")
    fake_snakemake.params = namedlist(cfg={"top_k": 5}, tf_threads=2)
    stage.main(fake_snakemake, lambda i, o, p: seen.update(p))
    assert os.environ["TF_NUM_INTRAOP_THREADS"] == "2" and "tf_threads" not in seen
    # the user's environment wins
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "4")
    stage.main(fake_snakemake, lambda i, o, p: None)
    assert os.environ["TF_NUM_INTRAOP_THREADS"] == "4"


def test_execution_settings_come_from_resources_not_params(fake_snakemake):
    """steps_per_execution changes no number, so rules declare it as a resource (a change
    reruns nothing); main() hands it to the stage as params["execution"]."""
    seen = {}
    fake_snakemake.resources = namedlist(mem_mb=1000, runtime=2, steps_per_execution=8)
    stage.main(fake_snakemake, lambda i, o, p: seen.update(p))
    assert seen["execution"] == {"steps_per_execution": 8}
    assert "mem_mb" not in seen


def test_a_skops_file_has_the_same_bytes_when_saved_again(tmp_path):
    import time

    import numpy as np
    import skops.io as sio
    from sklearn.ensemble import GradientBoostingRegressor

    from inputgrad.infra.io import save_skops

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(30, 3)), rng.normal(size=30)
    def fit():
        return GradientBoostingRegressor(n_estimators=3, random_state=0).fit(x, y)

    model = fit()
    save_skops(tmp_path / "a.skops", model)
    time.sleep(2.1)  # zip times have 2 s resolution
    save_skops(tmp_path / "b.skops", fit())  # the same fit again: other objects, other id()s
    assert (tmp_path / "a.skops").read_bytes() == (tmp_path / "b.skops").read_bytes()
    path = tmp_path / "a.skops"
    again = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    assert np.array_equal(again.predict(x), model.predict(x))


def test_a_keras_file_has_the_same_bytes_when_saved_again(tmp_path):
    """Keras stamps the time of saving and names shared objects by id(): two builds of the same
    model (a layer used twice, so config.json has shared objects), saved seconds apart, give
    the same bytes, and the file loads and predicts as the model."""
    import time
    import zipfile

    import keras
    import numpy as np

    from inputgrad.infra.io import save_keras

    def build():
        keras.backend.clear_session()  # the same layer names in both builds, as in two jobs
        keras.utils.set_random_seed(0)
        inputs = keras.Input((4,))
        shared = keras.layers.Dense(4, activation="tanh")
        return keras.Model(inputs, keras.layers.Dense(1)(shared(shared(inputs))))

    model = build()
    model.save(tmp_path / "plain.keras")
    plain = zipfile.ZipFile(tmp_path / "plain.keras").read("config.json")
    assert b'"shared_object_id"' in plain  # the case the renumbering is for
    save_keras(tmp_path / "a.keras", model)
    time.sleep(2.1)  # metadata has 1 s and zip times 2 s resolution
    save_keras(tmp_path / "b.keras", build())
    assert (tmp_path / "a.keras").read_bytes() == (tmp_path / "b.keras").read_bytes()
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    again = keras.models.load_model(tmp_path / "a.keras")
    assert np.array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))

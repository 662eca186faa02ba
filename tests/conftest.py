import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

# the PostgreSQL and MLflow-server fixtures (tests/servers.py), for every test module
pytest_plugins = ["servers"]


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """The whole workflow, once, on synthetic data in the real on-disk formats, with the smoke
    config (.test/config/config.yaml, copied into the project by `workflow_utils.snakemake`)."""
    from inputgrad.data.smoke import make_mirror
    from workflow_utils import snakemake

    base = tmp_path_factory.mktemp("smoke")
    mirror = make_mirror(base / "mirror")
    work = base / "work"
    _, log = snakemake(work, "--cores", "4", mirror=mirror)
    return {"work": work, "mirror": mirror, "log": log}

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


# Test tiers (issue 20): `pytest -m "not e2e"` is the developer's quick loop; the README's
# command runs every tier. A test is end-to-end if it runs the workflow (the smoke project or
# its own Snakemake call); tests that start a real server or cluster are `services` too.
SERVICES = {"test_slurm", "test_tracking_server"}


def _runs_snakemake(item) -> bool:
    import inspect

    fn = getattr(item, "function", None)
    try:
        return fn is not None and "snakemake(" in inspect.getsource(fn)
    except (OSError, TypeError):
        return False


def pytest_collection_modifyitems(items):
    for item in items:
        if item.module.__name__ in SERVICES:
            item.add_marker(pytest.mark.services)
            item.add_marker(pytest.mark.e2e)
        elif "smoke_run" in item.fixturenames or _runs_snakemake(item):
            item.add_marker(pytest.mark.e2e)

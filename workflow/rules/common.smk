# The single home of workflow Python: config validation, Hydra composition, target lists.
from pathlib import Path

from inputgrad.config import compose, validate_config

validate_config(config, workflow.source_path("../schemas/config.schema.yaml"))

RESULTS = "results"
# config/ is read from the working directory, like config/config.yaml itself
HYDRA_DIR = str(Path("config/hydra").resolve())
ENV = "../../environment.yml"


def hyper(experiment=None):
    """Resolved hyperparameters (Hydra compose) for an experiment, or the shared ones."""
    return compose(HYDRA_DIR, experiment, profile=config["profile"])


SHARED = hyper()
PAPER_SEED = config["seeds"][0]  # the seed of every paper table and figure
RAW_FILES = ["mnist.npz", "imdb_word_index.json", "aclImdb_v1.tar.gz"]

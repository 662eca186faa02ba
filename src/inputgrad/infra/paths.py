"""Where results live: the one definition, read by the workflow (common.smk) and by code.

Every path is relative to the project (working) directory Snakemake runs jobs in.
"""

RESULTS = "results"
MLFLOW_DIR = f"{RESULTS}/mlflow"
DEFAULT_STORE = f"{MLFLOW_DIR}/mlflow.db"  # SQLite store when tracking.uri is null
EXPERIMENT_ID = f"{MLFLOW_DIR}/experiment_id.txt"
ARTIFACTS = f"{MLFLOW_DIR}/artifacts"

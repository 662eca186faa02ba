"""Real services for tests, as pytest fixtures: a PostgreSQL server and an MLflow tracking
server whose backend store is that PostgreSQL, both started here on the loopback interface
with their data in temporary folders, and stopped at the end of the session.

tests/conftest.py loads this module as a pytest plugin, so any test takes them by name:

    def test_x(mlflow_server): ...

`postgres` yields {"uri", "host", "port", "data"}; `mlflow_server` yields
{"uri": "http://127.0.0.1:<port>", "backend", "artifacts", "log"}.

Where the binaries are missing (PostgreSQL's initdb, pg_ctl and postgres, from PATH or Debian's
/usr/lib/postgresql/<version>/bin; the `psycopg2` driver; the `mlflow` command), the fixtures
skip with a reason that names what is missing, so a user without PostgreSQL can still run the
test suite. With INPUTGRAD_REQUIRE_SERVICES=1 (CI sets it) a missing binary fails instead:
there, a skipped server test would be a test that silently did not run.

PostgreSQL refuses to run as root, so as root it runs as the unprivileged user `nobody`
(through `runuser`), with its folder under the system temporary folder, which that user can
reach (pytest's own temporary folders are private to root).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REQUIRE_ENV = "INPUTGRAD_REQUIRE_SERVICES"
PG_BINARIES = ("initdb", "pg_ctl", "postgres")
PG_USER = "nobody"  # who runs PostgreSQL when the tests run as root


def required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") == "1"


def unavailable(what: str) -> None:
    """Skip the test (missing binary), or fail it under INPUTGRAD_REQUIRE_SERVICES=1."""
    if required():
        pytest.fail(f"{what}; {REQUIRE_ENV}=1 makes this a failure, not a skip", pytrace=False)
    pytest.skip(what)


def pg_binary(name: str) -> str | None:
    """A PostgreSQL server binary: on PATH, else the newest Debian /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                      key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    for folder in reversed(versions):
        if (folder / name).is_file():
            return str(folder / name)
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"


def _as_postgres_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    runuser = shutil.which("runuser")
    if runuser is None:
        unavailable("runuser not found: needed to run PostgreSQL as an unprivileged user "
                    "when the tests run as root (Debian package util-linux)")
    return [runuser, "-u", PG_USER, "--", *cmd]


def _run(cmd: list[str], what: str, log: Path | None = None) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        more = f"\n{log}:\n{_tail(log)}" if log else ""
        pytest.fail(f"{what} failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout}"
                    f"{proc.stderr}{more}", pytrace=False)


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server on 127.0.0.1:<free port> (trust authentication, user `postgres`)
    with an empty database `mlflow`; data, socket and log in a temporary folder."""
    binaries = {name: pg_binary(name) for name in PG_BINARIES}
    missing = [name for name, path in binaries.items() if path is None]
    if missing:
        unavailable(f"PostgreSQL binaries not found: {', '.join(missing)} (on PATH or in "
                    "/usr/lib/postgresql/<version>/bin; Debian package `postgresql`)")
    try:
        import psycopg2
    except ImportError:
        unavailable("Python module psycopg2 not found (pip install -e '.[test]' installs "
                    "psycopg2-binary)")

    base = Path(tempfile.mkdtemp(prefix="inputgrad-postgres-"))
    data, log = base / "data", base / "postgres.log"
    if os.geteuid() == 0:
        import pwd

        user = pwd.getpwnam(PG_USER)
        os.chown(base, user.pw_uid, user.pw_gid)
    port = free_port()
    _run(_as_postgres_user([binaries["initdb"], "-D", str(data), "-U", "postgres",
                            "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"]),
         "initdb")
    # a throw-away test cluster: durability settings off, local connections only
    options = (f"-h 127.0.0.1 -p {port} -k {base} -c fsync=off -c synchronous_commit=off "
               "-c full_page_writes=off -c max_connections=200")
    pg_ctl = _as_postgres_user([binaries["pg_ctl"], "-D", str(data), "-l", str(log),
                                "-o", options])
    _run([*pg_ctl, "-w", "-t", "120", "start"], "pg_ctl start", log)
    try:
        conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres",
                                dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE mlflow")
        conn.close()
        yield {"uri": f"postgresql://postgres@127.0.0.1:{port}/mlflow", "host": "127.0.0.1",
               "port": port, "data": data, "log": log}
    finally:
        subprocess.run([*pg_ctl, "-m", "fast", "-w", "-t", "60", "stop"], capture_output=True,
                       timeout=120)
        shutil.rmtree(base, ignore_errors=True)


def wait_for_health(uri: str, proc: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"mlflow server exited ({proc.returncode}) before answering:\n"
                        f"{_tail(log)}", pytrace=False)
        with contextlib.suppress(urllib.error.URLError, OSError):
            with urllib.request.urlopen(uri + "/health", timeout=5) as resp:
                if resp.status == 200:
                    return
        time.sleep(1)
    pytest.fail(f"mlflow server at {uri} did not answer /health within {timeout:.0f} s:\n"
                f"{_tail(log)}", pytrace=False)


def stop(proc: subprocess.Popen, grace: float = 30) -> None:
    """SIGTERM to the server's process group (its workers too), SIGKILL after `grace` s."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


@pytest.fixture(scope="session")
def mlflow_server(postgres, tmp_path_factory):
    """`mlflow server` on 127.0.0.1:<free port>, backend store the `postgres` fixture's
    database, artifacts served by the server itself (--serve-artifacts) from a temporary
    folder; yields once /health answers, stops the server (and its workers) afterwards."""
    mlflow = Path(sys.executable).with_name("mlflow")
    if not mlflow.is_file():
        unavailable(f"the mlflow command is not installed next to {sys.executable}")
    base = tmp_path_factory.mktemp("mlflow-server")
    artifacts, log = base / "artifacts", base / "mlflow-server.log"
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    cmd = [str(mlflow), "server", "--backend-store-uri", postgres["uri"],
           "--serve-artifacts", "--artifacts-destination", str(artifacts),
           "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                cwd=base, start_new_session=True)
    try:
        wait_for_health(uri, proc, log)
        yield {"uri": uri, "backend": postgres["uri"], "artifacts": artifacts, "log": log}
    finally:
        stop(proc)

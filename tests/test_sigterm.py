"""The SIGTERM deadlock of Snakemake 9.27.1's scheduler, reproduced with a real signal, and the
workaround of `infra.sigterm` (installed by the Snakefile)."""

import subprocess
import sys
import textwrap

import pytest

# A scheduler-like object whose main thread holds the scheduler lock when SIGTERM arrives, as
# Snakemake's main thread does while it selects jobs; the handler is the method under test.
SCRIPT = textwrap.dedent("""
    import os, signal, sys, threading
    from snakemake.scheduling.job_scheduler import JobScheduler
    from inputgrad.infra import sigterm

    if sys.argv[1] == "patched":
        sigterm.patch()
    sched = JobScheduler.__new__(JobScheduler)  # only the two fields the handler touches
    sched._lock, sched._open_jobs, sched._user_kill = threading.Lock(), threading.Semaphore(0), None
    signal.signal(signal.SIGTERM, sched.exit_gracefully)
    with sched._lock:
        os.kill(os.getpid(), signal.SIGTERM)  # handled here, in the thread holding the lock
    assert sched._user_kill == "graceful" and sched._open_jobs.acquire(timeout=1)
    print("stopped gracefully")
""")


def handle(mode: str):
    return subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True,
                          timeout=20)


def test_snakemakes_own_handler_deadlocks_when_the_signal_meets_the_lock():
    with pytest.raises(subprocess.TimeoutExpired):  # hangs; only SIGKILL ends it
        subprocess.run([sys.executable, "-c", SCRIPT, "original"], capture_output=True,
                       timeout=10)


def test_the_patched_handler_stops_gracefully():
    done = handle("patched")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "stopped gracefully"


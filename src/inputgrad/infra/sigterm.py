"""A workaround for a deadlock of Snakemake 9.27.1 (the newest release) on SIGTERM.

Snakemake's scheduler installs `JobScheduler.exit_gracefully` as the SIGTERM handler, and the
handler takes `self._lock`, a non-reentrant `threading.Lock`. Python runs signal handlers in
the main thread, between two bytecodes of whatever it is doing; when SIGTERM arrives while the
main thread itself holds that lock (it does while it selects and submits jobs, and when a job
finishes), the handler waits for a lock its own thread can never release: Snakemake hangs until
SIGKILL and then needs `--unlock`. `patch()` replaces the handler with one that takes no lock:
setting one attribute is atomic in CPython, and the scheduler loop reads `_user_kill` under the
lock afterwards, woken by the same semaphore release as before. The Snakefile calls it before
the scheduler exists (the handler is bound when the scheduler is built).
"""

from __future__ import annotations


def exit_gracefully(self, *args) -> None:
    """Snakemake's handler (mark the run for a graceful stop, wake the scheduler loop) without
    the lock the interrupted main thread may hold."""
    self._user_kill = "graceful"
    self._open_jobs.release()


def patch() -> bool:
    """Install `exit_gracefully` on Snakemake's JobScheduler; False if this Snakemake has no
    such scheduler method (then nothing is changed)."""
    try:
        from snakemake.scheduling.job_scheduler import JobScheduler
    except ImportError:
        return False
    if not hasattr(JobScheduler, "exit_gracefully"):
        return False
    JobScheduler.exit_gracefully = exit_gracefully
    return True

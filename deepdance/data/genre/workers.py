"""DataLoader workers of the genre data: SIGTERM is the main process's, and none outlives it."""

from __future__ import annotations

import atexit
import multiprocessing
import os
import signal


def init_worker(worker_id: int, rank: int = 0) -> None:
    """DataLoader worker start-up: leave SIGTERM to the main process (``timeout``, SLURM and
    ``kill -- -PGID`` signal the whole process group), which stops after the batch and saves a
    checkpoint; then seed like Lightning does under ``seed_everything(workers=True)``.

    Ignoring SIGTERM means ``multiprocessing``'s exit handler (terminate, then join) could wait
    forever on a worker whose iterator is still alive at exit (e.g. held by the traceback of an
    error raised in a worker): ``_kill_workers_at_exit`` ends them first."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if os.environ.get("PL_SEED_WORKERS") == "1":
        from lightning_fabric.utilities.seed import pl_worker_init_function

        pl_worker_init_function(worker_id, rank=rank)


# registered after multiprocessing's own exit handler, so it runs before it (LIFO)
@atexit.register
def _kill_workers_at_exit() -> None:
    """SIGKILL the daemonic child processes still alive at interpreter exit.

    multiprocessing would terminate them anyway (SIGTERM, then an unbounded join); our
    DataLoader workers ignore SIGTERM (see ``init_worker``), so without this a leftover worker
    keeps the process from ever exiting."""
    workers = [child for child in multiprocessing.active_children() if child.daemon]
    if not workers:
        return
    # torch's handler would raise as each killed worker dies
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for child in workers:
        child.kill()
    for child in workers:
        child.join(timeout=5)

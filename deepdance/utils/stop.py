"""Stop a long loop cleanly on SIGTERM: finish the batch in hand, keep what is done, exit 143.

SLURM preemption, ``timeout`` and ``kill`` send SIGTERM. Lightning acts on it only in its fit
loop; its predict loop (feature extraction), and our own loops (predict, scan, bench) would
run on. ``StopOnSigterm`` installs a handler that only sets a flag; the loop calls
``check_stop()`` at each batch boundary, which raises ``Stopped`` once the flag is set, and
the context turns that into one line on stderr (what was kept, how to resume) and exit code
143 (128 + SIGTERM: "terminated", not "failed").

Lightning's signal connector keeps a handler it finds installed and calls it after its own, so
the flag is also set while a Trainer runs. Worker processes forked meanwhile inherit the handler
but die on SIGTERM as usual; an error raised after SIGTERM arrived (such a worker gone, say) is
taken as part of the stop, not as a crash.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any, Self

log = logging.getLogger(__name__)

EXIT_CODE = 143

_active: list[StopOnSigterm] = []


class Stopped(Exception):
    """Raised by ``check_stop`` at a batch boundary once SIGTERM arrived."""


class StopOnSigterm:
    """Within the block, SIGTERM asks the loop to stop at its next ``check_stop()``.

    ``kept`` (text set by the loop as it goes, or a function giving it) says what a stop keeps;
    ``resume`` says how to go on.
    """

    def __init__(self, what: str, resume: str) -> None:
        self.what, self.resume = what, resume
        self.kept: str | Callable[[], str] = "nothing"
        self.requested = False
        self._previous: Any = None
        self._installed = False
        self._pid = 0

    def __enter__(self) -> Self:
        # Python lets only the main thread install signal handlers.
        if threading.current_thread() is threading.main_thread():
            self._pid = os.getpid()
            self._previous = signal.signal(signal.SIGTERM, self._handle)
            self._installed = True
        _active.append(self)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if os.getpid() != self._pid:
            # A forked worker (DataLoader, process pool) inherited this handler: it dies as it
            # would without it, so SIGTERM to the process group or multiprocessing's terminate()
            # ends it, and the main process stops on the error that follows.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        if not self.requested:
            log.warning("SIGTERM: %s stops after the current batch", self.what)
        self.requested = True
        if callable(self._previous):
            self._previous(signum, frame)

    def kept_text(self) -> str:
        return self.kept() if callable(self.kept) else self.kept

    def check(self) -> None:
        if self.requested:
            raise Stopped(self.kept_text())

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        _active.remove(self)
        if self._installed:
            signal.signal(signal.SIGTERM, self._previous)
        if not (self.requested and isinstance(exc, Exception)):
            return False
        if not isinstance(exc, Stopped):
            log.debug("error after SIGTERM, taken as part of the stop", exc_info=exc)
        message = f"stopped by SIGTERM: {self.what}; kept {self.kept_text()}; {self.resume}"
        log.warning("%s", message)
        print(message, file=sys.stderr, flush=True)
        raise SystemExit(EXIT_CODE) from None


def check_stop() -> None:
    """A batch boundary: raise ``Stopped`` if SIGTERM arrived inside a ``StopOnSigterm``."""
    for stop in _active:
        stop.check()

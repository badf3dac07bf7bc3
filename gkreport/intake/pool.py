"""Reading files in a process pool whose workers die with the process they serve.

A worker blocked on an empty queue would otherwise wait forever once its parent is killed
(kill -9 runs no clean-up): each worker runs a watchdog thread that ends it when the parent
is gone. Nothing is kept in a module between calls: what the work needs travels with it
(a functools.partial, pickled once per batch of files).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
WATCH_SECONDS = 0.5  # how often a pool worker checks that the process it serves is alive


def map_in_processes(fn: Callable[[T], R], items: Sequence[T], workers: int,
                     progress: Callable[[int, int], None] | None = None) -> list[R] | None:
    """[fn(item) for item in items] in `workers` processes, in order; None when processes
    cannot be used here (the caller then does the work itself)."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    chunk = max(1, min(64, len(items) // (workers * 8)))
    results: list[R] = []
    try:
        with ProcessPoolExecutor(max_workers=workers, initializer=watch_parent,
                                 initargs=(os.getpid(),)) as pool:
            for i, res in enumerate(pool.map(fn, items, chunksize=chunk), start=1):
                results.append(res)
                if progress:
                    progress(i, len(items))
    except (OSError, BrokenProcessPool):  # no processes allowed here
        return None
    return results


def watch_parent(parent: int) -> None:
    """Run in each pool worker as it starts: a thread that ends the worker once the process
    it serves is gone (killed with -9, say), instead of leaving it waiting forever."""
    import threading

    threading.Thread(target=_watchdog, args=(parent,), daemon=True,
                     name="gkreport-watchdog").start()


def _watchdog(parent: int) -> None:
    import multiprocessing
    import time

    handle = multiprocessing.parent_process()
    while True:
        time.sleep(WATCH_SECONDS)
        # POSIX: an orphan is adopted by another process. Windows keeps the old parent id,
        # so ask the parent's process handle (which the spawn start method holds) instead.
        if os.name == "nt":
            gone = handle is not None and not handle.is_alive()
        else:
            gone = os.getppid() != parent
        if gone:
            os._exit(1)

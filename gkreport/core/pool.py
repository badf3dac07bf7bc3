"""Work in other processes (concurrent.futures) whose workers die with the process they serve.

Two uses: reading many files in a pool (`map_in_processes`), and one piece of work done
beside the caller (`beside`: the consolidated workbook while the rest is written).

A worker blocked on an empty queue would otherwise wait forever once its parent is killed
(kill -9 runs no clean-up): each worker runs a watchdog thread that ends it when the parent
is gone.

Nothing is kept in a module between calls: what the work shares (the plan, last period's
notes) travels with each batch of items, pickled once by the caller as bytes. A worker
unpickles it once: `_shared` is a memo of a pure function of those bytes, so the same
bytes give the same object and other bytes (another call) another one. Pickling the plan
with every batch instead costs its (de)serialisation per batch, which grows with the
number of units times the number of files.
"""

from __future__ import annotations

import functools
import os
import pickle
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")
S = TypeVar("S")
R = TypeVar("R")
WATCH_SECONDS = 0.5  # how often a pool worker checks that the process it serves is alive


def map_in_processes(fn: Callable[[T, S], R], items: Sequence[T], shared: S, workers: int,
                     progress: Callable[[int, int], None] | None = None) -> list[R] | None:
    """[fn(item, shared) for item in items] in `workers` processes, in order; None when
    processes cannot be used here (the caller then does the work itself). `fn` must be a
    module-level function."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    try:
        blob = pickle.dumps(shared, pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - something that does not pickle: the caller works here
        return None
    task = functools.partial(_call, fn=fn, blob=blob)
    chunk = max(1, min(64, len(items) // (workers * 8)))
    results: list[R] = []
    try:
        with ProcessPoolExecutor(max_workers=workers, initializer=watch_parent,
                                 initargs=(os.getpid(),)) as pool:
            for i, res in enumerate(pool.map(task, items, chunksize=chunk), start=1):
                results.append(res)
                if progress:
                    progress(i, len(items))
    except (OSError, BrokenProcessPool):  # no processes allowed here
        return None
    return results


def forks() -> bool:
    """Whether `beside` uses a forked worker here."""
    return sys.platform.startswith("linux") and not os.environ.get("GKREPORT_NO_FORK")


class _Later:
    """A future that runs its work in this process when its result is asked for."""

    def __init__(self, fn: Callable[..., R], args: tuple[Any, ...]) -> None:
        self._fn, self._args = fn, args

    def result(self) -> Any:
        return self._fn(*self._args)


@contextmanager
def beside(fn: Callable[..., R], *args: Any, inline: bool = False) -> Iterator[Any]:
    """`with beside(fn, *args) as job: ...; job.result()`: fn(*args) in a worker process
    while the block goes on. Leaving the block waits for the work to end (an error in the
    block then surfaces once the worker has cleaned up after itself).

    A forked worker starts at once (no interpreter start-up, no imports) and works on its
    own copy of `args`. Where fork is not safe (Windows has none, macOS frameworks are not
    fork-safe), GKREPORT_NO_FORK is set, or the caller says `inline` (the copy would cost
    more memory than the overlap saves time), the work runs in this process at `result()`,
    so the order of effects is the same. A worker that dies (killed, out of memory) raises
    BrokenProcessPool at `result()`.
    """
    if inline or not forks():
        yield _Later(fn, args)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"),
                             initializer=_beside_worker, initargs=(os.getpid(),)) as pool:
        yield pool.submit(fn, *args)


def _beside_worker(parent: int) -> None:
    import gc

    watch_parent(parent)
    # The worker lives for one piece of work on objects it unpickles (a month's Report:
    # 0.4 s with the collector's passes over them, 0.15 s without).
    gc.disable()


def _call(item: Any, fn: Callable[[Any, Any], Any], blob: bytes) -> Any:
    return fn(item, _shared(blob))


@functools.lru_cache(maxsize=1)
def _shared(blob: bytes) -> Any:
    return pickle.loads(blob)


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

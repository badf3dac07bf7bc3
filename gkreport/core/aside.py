"""One piece of work done beside the main process, so two cores share a run.

On Linux the work runs in a forked child: it starts at once with the parent's memory as it
is (nothing pickled on the way in, no interpreter start-up), and only its small result (a
path) or its exception comes back through a pipe. Elsewhere (Windows has no fork; macOS
frameworks are not fork-safe) it runs in this process when its result is asked for, so
callers see the same order of effects either way.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

from gkreport.core.problems import GkreportError, problem

R = TypeVar("R")


def can_fork() -> bool:
    return sys.platform.startswith("linux") and os.environ.get("GKREPORT_NO_FORK", "") == ""


class Aside(Generic[R]):
    """`with Aside(fn, *args) as job: ...; job.result()`: fn(*args), started on entry.

    Leaving the block without asking for the result (an error in the caller) stops the
    child, which unwinds as if interrupted (its `finally` clauses run) and is waited for.
    """

    def __init__(self, fn: Callable[..., R], *args: Any) -> None:
        self._fn, self._args = fn, args
        self._proc: Any = None
        self._recv: Any = None

    def __enter__(self) -> Aside[R]:
        if can_fork():
            import multiprocessing

            ctx = multiprocessing.get_context("fork")
            self._recv, send = ctx.Pipe(duplex=False)
            self._proc = ctx.Process(target=_run, args=(send, self._fn, self._args),
                                     name="gkreport-aside", daemon=True)
            self._proc.start()
            send.close()  # the child's end: EOF here once the child is gone
        return self

    def result(self) -> R:
        if self._proc is None:
            return self._fn(*self._args)
        try:
            kind, value = self._recv.recv()
        except EOFError:  # killed (out of memory, by hand) before it could answer
            self._proc.join()
            raise GkreportError(problem("worker-died", status=self._proc.exitcode)) from None
        finally:
            self._recv.close()
        self._proc.join()
        self._proc = None
        if kind == "error":
            raise value
        return value

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._proc is not None:  # not asked for: the caller failed; stop the child
            self._proc.terminate()
            self._proc.join()
            self._recv.close()


def _run(send: Any, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    import signal

    # Stopped by the parent (terminate: SIGTERM): unwind, so the work's own clean-up (a
    # temporary file removed) runs instead of dying mid-write.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        answer: tuple[str, Any] = ("ok", fn(*args))
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
        answer = ("error", exc)
    try:
        try:
            send.send(answer)
        except (OSError, EOFError):
            return  # the parent has stopped listening (it failed, or is gone)
        except Exception as exc:  # noqa: BLE001 - an exception that does not pickle
            send.send(("error", RuntimeError(f"{type(answer[1]).__name__}: {answer[1]} ({exc})")))
    except (OSError, EOFError):
        return
    finally:
        send.close()

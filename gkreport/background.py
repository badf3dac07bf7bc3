"""The second process of a consolidate: check outputs, memo and history beside the workbook.

The main process writes the workbook, the longest single step of a big month. Meanwhile a
fresh interpreter (`python -m gkreport.background`) writes the check outputs, renders the
memo in memory and writes the period into the history without committing it. The main
process commits the history only once the workbook, memo and summary are in place, so a
run that fails anywhere (or is killed) leaves the history as it was.

A fresh interpreter rather than a fork: a forked copy of the main process (the whole month
in memory) would double the memory a big month needs. Rather than multiprocessing: the
child never re-runs the caller's script. Where the second process cannot start or dies,
its work is done in this process instead; nothing depends on it succeeding.

The two talk over the child's stdin and stdout in pickles: the month in, then "commit";
out, each framed (MAGIC, length): a hello, ("outputs", ...) or ("error", GkreportError),
then ("committed", None).
"""

from __future__ import annotations

import os
import pickle
import queue
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from gkreport.core.problems import GkreportError

if TYPE_CHECKING:
    from gkreport.core.model import Report, Returns
    from gkreport.workspace import Paths

SECOND_PROCESS = True  # False: everything in this process (tests, profiling)
COMMIT = "commit"
# The child's first words, before it reads anything: a program that is not ours (a frozen
# or embedding sys.executable) never says them, and is given up on after HELLO_SECONDS.
HELLO = ("hello", "gkreport.background/1")
HELLO_SECONDS = 60.0
Outputs = tuple[Path, dict[str, Path], dict[Path, str | bytes]]


def side_outputs(paths: Paths, returns: Returns, report: Report) -> Outputs:
    """The check outputs (written) and the memo (rendered in memory, not yet written)."""
    from gkreport.render.memo import render_outputs
    from gkreport.workspace import templates_dir, write_check_outputs

    # The check outputs are what `gkreport check` writes for these inputs anyway.
    check_path, annotated = write_check_outputs(paths, report.plan, report.period, returns)
    # Rendered in memory first: a broken workspace template stops the run before the last
    # good workbook, memo or summary is replaced.
    memo = render_outputs(report, paths.period_out(report.period),
                          templates=templates_dir(paths), annotated=annotated)
    return check_path, annotated, memo


class SideJob:
    """`side_outputs` and the history write of one consolidate, in a second process.

    with SideJob(...) as side:
        ...                        # the workbook, meanwhile
        outputs = side.outputs()   # raises what side_outputs raised
        ...                        # the workbook and memo moved into place
        side.commit()              # the history, last

    Leaving the block without commit() leaves the history untouched. Only a GkreportError
    (a message for the user: a broken template, a busy history) crosses from the child to
    the user; anything else it meets (an exception, running out of memory, dying) makes
    this process do the work itself, so a bug shows here with its whole traceback.
    """

    def __init__(self, paths: Paths, returns: Returns, report: Report) -> None:
        self.args = (paths, returns, report)
        self.proc: subprocess.Popen[bytes] | None = None
        self.sender: threading.Thread | None = None
        self.listener: threading.Thread | None = None
        self.inbox: queue.Queue[tuple[str, Any] | None] = queue.Queue()
        self.failed = False  # sending failed: the child is gone
        self.here = False  # the second process failed: its work was done here

    def __enter__(self) -> SideJob:
        # A frozen application's executable is not a Python that takes -m.
        if SECOND_PROCESS and sys.executable and not getattr(sys, "frozen", False):
            try:
                # -P: the child must import the installed gkreport, not a gkreport/ folder
                # (or a queue.py) in the current directory, as `python -m` otherwise would.
                self.proc = subprocess.Popen([sys.executable, "-P", "-m", __name__],
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            except (OSError, ValueError):
                self.proc = None
        if self.proc is None:
            return self
        # The child's answers are taken by a thread from the start, so it never waits on a
        # full pipe.
        self.listener = threading.Thread(target=self._listen, args=(self.proc.stdout,),
                                         daemon=True)
        self.listener.start()
        try:
            # Pickled here, at once: a pickling thread would contend with the workbook for
            # the interpreter lock the whole time.
            data = pickle.dumps(self.args, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - something that does not pickle: work here instead
            self._stop(kill=True)
            return self
        # The bytes go out from a thread: the pipe takes them as fast as the child reads.
        self.sender = threading.Thread(target=self._send, args=(data,), daemon=True)
        self.sender.start()
        return self

    def _send(self, data: bytes) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (OSError, ValueError):  # the child is gone
            self.failed = True

    def _listen(self, stream: IO[bytes]) -> None:
        """Queue each message of the child; None once it ended, died or sent nonsense. What
        follows nonsense is read and dropped, so the child never blocks on a full pipe."""
        while True:
            message = _read_message(stream)
            self.inbox.put(message)
            if message is None:
                while stream.read(1 << 16):
                    pass
                return

    def _receive(self, timeout: float | None = None) -> tuple[str, Any] | None:
        if self.failed:
            return None
        try:
            return self.inbox.get(timeout=timeout)
        except queue.Empty:
            return None

    def _answer(self, expected: str) -> Any:
        """The child's `expected` message; a GkreportError it sent is raised; anything else
        stops it and returns None (the caller then does the work here)."""
        message = self._receive()
        if message and message[0] == expected:
            return message
        if message and message[0] == "error" and isinstance(message[1], GkreportError):
            self._stop()
            raise message[1]
        self._stop(kill=True)
        return None

    def outputs(self) -> Outputs:
        """The side outputs, from the second process or, if it failed, made here."""
        if self.proc is not None and self._receive(HELLO_SECONDS) != HELLO:
            self._stop(kill=True)  # not our program, or it died starting
        if self.proc is not None:
            if self.sender is not None:
                self.sender.join()
            message = self._answer("outputs")
            if message is not None:
                return message[1]
        self.here = True
        return side_outputs(*self.args)

    def commit(self) -> None:
        """Commit the period to the history (written here if the second process failed)."""
        if self.proc is not None and not self.here:
            self._send(pickle.dumps(COMMIT))
            if self._answer("committed") is not None:
                return
        from gkreport.history import History

        paths, _returns, report = self.args
        History(paths.history).record(report)

    def _stop(self, *, kill: bool = False, wait: float = 60) -> None:
        """End the second process. Closing its input rolls back an uncommitted history write
        (the child stops at its next read); after `wait` seconds, or at once with `kill`, it
        is killed (its work is abandoned or will be done here)."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        try:
            if kill:
                proc.kill()
            if self.sender is not None:
                self.sender.join(timeout=10)
                if self.sender.is_alive():  # blocked on a child that does not read
                    proc.kill()
                    self.sender.join()
            try:
                proc.stdin.close()  # type: ignore[union-attr]
            except OSError:
                pass
            try:
                proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                proc.kill()
        finally:
            # Even when interrupted again (a second Ctrl-C): never leave the child writing
            # outputs or the history after this run has given up its lock.
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            if self.listener is not None:
                self.listener.join(timeout=10)  # it reads to the end of what the child said
            if proc.stdout is not None:
                proc.stdout.close()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # Leaving on an exception (the workbook failed, Ctrl-C): the child's remaining work
        # is abandoned rather than waited for. Waiting for commit, it rolls back at once;
        # still busy after a moment, it is killed (sqlite rolls its journal back later).
        self._stop(wait=60 if exc is None else 2)


# ---------------------------------------------------------------- the second process

# Each message: MAGIC, its length (8 bytes, big-endian), the pickle. Bytes that are not
# ours on the child's stdout (a site hook's print) then read as nonsense, not as a pickle
# asking for gigabytes.
MAGIC = b"GKRB"


def _read_message(stream: IO[bytes]) -> tuple[str, Any] | None:
    head = stream.read(len(MAGIC) + 8)
    if len(head) < len(MAGIC) + 8 or not head.startswith(MAGIC):
        return None
    size = int.from_bytes(head[len(MAGIC):], "big")
    data = stream.read(size)
    if len(data) < size:
        return None
    try:
        message = pickle.loads(data)
    except Exception:  # noqa: BLE001 - a message we cannot read is nonsense
        return None
    return message if isinstance(message, tuple) and len(message) == 2 else None


def _reply(out: IO[bytes], kind: str, value: Any) -> None:
    try:
        data = pickle.dumps((kind, value), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - an exception that does not pickle: say what it was
        data = pickle.dumps(("error", RuntimeError(repr(value))))
    out.write(MAGIC + len(data).to_bytes(8, "big") + data)
    out.flush()


def main() -> None:
    """The child's side of the conversation (see the module docstring)."""
    import signal

    # Ctrl-C is the main process's to handle: it stops us (or closes our input).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    inbox = sys.stdin.buffer
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    # Stray prints (a library's warning) must not corrupt the conversation: to stderr.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    _reply(out, *HELLO)
    try:
        args = pickle.load(inbox)
        outputs = side_outputs(*args)
    except GkreportError as exc:  # for the user: a broken template, say
        _reply(out, "error", exc)
        os._exit(1)
    except BaseException:  # noqa: BLE001 - anything else: the main process does the work
        os._exit(2)
    _reply(out, "outputs", outputs)

    from gkreport.history import History

    paths, _returns, report = args
    try:
        with History(paths.history).prepared(report):
            if pickle.load(inbox) != COMMIT:
                raise EOFError
    except EOFError:  # the main process gave up: rolled back
        os._exit(0)
    except GkreportError as exc:  # a busy or unreadable history: the user's to hear
        _reply(out, "error", exc)
        os._exit(1)
    except BaseException:  # noqa: BLE001 - the main process records it
        os._exit(2)
    _reply(out, "committed", None)
    # The interpreter's teardown of a month's objects is skipped: nothing is left to flush.
    os._exit(0)


if __name__ == "__main__":
    main()

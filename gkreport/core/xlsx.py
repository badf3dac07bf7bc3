"""Shared xlsxwriter set-up: safe options, reproducible properties, atomic saves."""

from __future__ import annotations

import errno
import math
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from gkreport.core.problems import GkreportError, problem

# Unit text is data: never turn "=..." into a formula or "http..." into a link.
WORKBOOK_OPTIONS: dict[str, Any] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "nan_inf_to_errors": True,
}
FONT_NAME = "宋体"
FONT_SIZE = 10
LINE_HEIGHT = 13.5  # points per line of 10-pt 宋体
MAX_ROW_HEIGHT = 409.0  # points: Excel's tallest row


def wrapped_lines(line_widths: Sequence[int], width: float) -> int:
    """Lines a cell's text (the display width of each of its lines) wraps to in a column
    `width` characters wide."""
    usable = width - 1 if width > 2 else 1
    return sum(math.ceil(w / usable) or 1 for w in line_widths) or 1


def row_height(lines: int) -> float:
    """Points a row of `lines` wrapped lines needs: Excel, WPS and LibreOffice do not all
    refit rows a program wrote, so long text would otherwise print cut off."""
    return min(LINE_HEIGHT * lines + 4, MAX_ROW_HEIGHT)


UNKNOWN_PATH = "（文件名未知）"


def os_failure(path: Path | str, exc: BaseException) -> GkreportError:
    """What an operating-system error writing or reading `path` means, in words the office
    can act on: a full disk (the history and the last outputs are kept as they were), no
    permission on a folder, a file held open by Excel or WPS, or gone."""
    cause = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else exc
    code = getattr(cause, "errno", None)
    # An error without a file name (a write to a full disk fails in write(), not open()) is
    # said so, not shown as "." (Path("") is the current folder).
    path = Path(path) if str(path) else Path(UNKNOWN_PATH)
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        folder = path.parent if path.name != UNKNOWN_PATH else path
        return GkreportError(problem("disk-full", file=str(path), path=str(folder)))
    if isinstance(cause, FileNotFoundError):
        return GkreportError(problem("path-missing", file=str(path), path=str(path)))
    if isinstance(cause, PermissionError) and not path.is_file():
        return GkreportError(problem("no-permission", file=str(path), path=str(path)))
    if isinstance(cause, PermissionError):
        return GkreportError(problem("output-locked", file=str(path), name=path.name))
    return GkreportError(problem("os-error", file=str(path), path=str(path),
                                 detail=getattr(cause, "strerror", None) or str(cause)))


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success rename it into place.

    An interrupted run never leaves a half-written file where the last good one was.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".~tmp-", suffix=path.suffix, dir=path.parent)
    except OSError as exc:
        raise os_failure(path.parent, exc) from exc
    os.close(fd)
    tmp_path = Path(tmp)
    shared_permissions(tmp_path)
    try:
        yield tmp_path
        replace_file(tmp_path, path)
    except OSError as exc:  # e.g. the disk filled up while writing: the old file stays
        raise os_failure(path, exc) from exc
    finally:
        if tmp_path.exists():
            tmp_path.unlink(missing_ok=True)


def shared_permissions(path: Path) -> None:
    """mkstemp and mkdtemp make private files and folders (0600, 0700); outputs live on
    shared folders, so give them the permissions a normally created one would have."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~umask)


def replace_file(source: Path, target: Path) -> None:
    """Move a finished file into place; a target held open by Excel gets a clear message."""
    try:
        os.replace(source, target)
    except OSError as exc:
        raise os_failure(target, exc) from exc


# What an interrupted run leaves beside its outputs: temporary files and folders
# (atomic_path, a folder being built), a workbook being written, a folder being replaced.
PENDING_PREFIX = ".~pending-"  # a finished output waiting for the rest of its run
LEFTOVER_PREFIXES = (".~tmp-", PENDING_PREFIX)
OLD_PREFIX = ".~old-"


def clean_leftovers(folder: Path, *, only: str | None = None) -> list[Path]:
    """Remove what a killed run left in `folder`; return what was removed or put back.

    .~tmp-* and .~pending-* files and folders go. A folder being replaced (.~old-NAME-*)
    is put back as NAME when NAME is missing (the run was killed between the two renames of
    `replace_dir`), else removed. `only`: just the leftovers of output NAME (for a caller
    that shares `folder` with another writer at work). Call it holding the workspace lock.
    """
    if not folder.is_dir():
        return []
    done: list[Path] = []
    prefixes = (LEFTOVER_PREFIXES if only is None
                else tuple(f"{p}{only}" for p in LEFTOVER_PREFIXES))
    for path in sorted(folder.iterdir()):
        name = path.name
        if name.startswith(OLD_PREFIX) and (only is None or name.startswith(f"{OLD_PREFIX}{only}-")):
            original = folder / name[len(OLD_PREFIX):].rsplit("-", 1)[0]
            if not original.exists() and path.is_dir():
                os.replace(path, original)
                done.append(original)
                continue
        elif not name.startswith(prefixes):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        done.append(path)
    return done


def replace_dir(new: Path, target: Path, *, keep: bool = True) -> None:
    """Put the finished folder `new` in place of `target` (or, keep=False, just remove
    `target`): two renames, so `target` is always one whole folder, the old or the new;
    a kill between them is repaired by `clean_leftovers`."""
    old = None
    if target.exists():
        old = target.with_name(f"{OLD_PREFIX}{target.name}-{secrets.token_hex(4)}")
        try:  # Windows refuses while a file in it is open in Excel or WPS
            os.replace(target, old)
        except OSError as exc:
            raise os_failure(target, exc) from exc
    if keep:
        try:
            os.replace(new, target)
        except OSError as exc:
            raise os_failure(target, exc) from exc
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_text_atomic(path: Path, text: str) -> None:
    """Write UTF-8 text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def new_workbook(path: Path, *, title: str, created: datetime, constant_memory: bool = False,
                 **props: str) -> Any:
    """An xlsxwriter Workbook with safe options and reproducible document properties."""
    import xlsxwriter

    options = dict(WORKBOOK_OPTIONS)
    if constant_memory:
        options["constant_memory"] = True
    wb = xlsxwriter.Workbook(str(path), options)
    wb.set_properties({"title": title, "created": created, "author": "gkreport",
                       "company": props.pop("company", ""), **props})
    wb.set_size(1600, 1000)
    return wb


def close_workbook(wb: Any, path: Path) -> None:
    """Close an xlsxwriter workbook, turning 'file is open in Excel' into a clear message."""
    import xlsxwriter.exceptions

    try:
        wb.close()
    except (xlsxwriter.exceptions.FileCreateError, OSError) as exc:
        # xlsxwriter wraps every OS error in FileCreateError: a full disk is not Excel's
        raise os_failure(path, exc) from exc


def write_xlsx(path: Path, build: Callable[[Path], None]) -> Path:
    """Run `build(tmp)` to write a workbook at a temporary path, then move it into place."""
    with atomic_path(path) as tmp:
        build(tmp)
    return path

"""Row-level checking of a located form's table: task rows become entries, the rest problems.

`ingest` finds the form's sheet and header row and identifies the unit and period; this
module then reads the table under the header, in the order a row is checked:

1. Which rows are task rows (`data_rows`): blank rows, the header repeated on a new page and
   the reporter block (填报人 …) are skipped; a row with a 序号 (as units retype it: 4、,
   （4）, 第4项) or with a task text and an answer is a task row, unless it is a note line
   (注：…); any other non-blank row is a stray row (or extra rows below the table).
2. Continuation rows (no 序号, task text, status or progress; only text in 进展情况, 存在问题
   or 下步计划) are gathered into the task row above them first, since their 存在问题 may
   answer that row's 滞后.
3. Each task row (`validate`) is rejected when it has no 序号, is not the unit's task, its
   task text was changed, or its 序号 came before; otherwise it becomes an `Entry`
   (`_entry`): the status is normalised (bracketed remarks and trailing dates stripped unless
   they name another status), the progress parsed (80, "80%", 0.8), and the answers checked
   against each other (missing status or 进展情况, 已完成 below 100, 未启动 with progress,
   滞后 without 存在问题, 进展情况 unchanged since last period).
4. After the rows: every task the unit owes but did not return (across the form's sheet and
   the sheets continuing it), a missing 填报人 or 联系电话, and the columns a unit added
   whose cells hold something (named: they are not read).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from typing import Any

from gkreport.core.model import (
    STATUS_ALIASES,
    Entry,
    Plan,
    Status,
    Task,
    normalise_status,
    task_key,
)
from gkreport.core.problems import Problem, a1, problem
from gkreport.core.text import clean, nfkc, parse_no, squash
from gkreport.forms import layout

# ---------------------------------------------------------------- per-file result and the form


@dataclass(frozen=True, slots=True)
class FileResult:
    """What one file yielded; picklable so a worker process can return it."""

    file: str
    size: int
    sha256: str
    mtime: float
    read_at: str
    unit: str = ""
    identified_by: str = ""
    refused: bool = False
    entries: tuple[Entry, ...] = ()
    problems: tuple[Problem, ...] = ()
    rows_read: int = 0
    rows_rejected: int = 0
    filled_by: str = ""
    phone: str = ""
    fill_date: str = ""
    lacking: tuple[int, ...] = ()  # tasks the unit owes that the form has no row for
    old_plan: bool = False  # made from an earlier plan version: rows matched by their text
    errors_before: int = 0  # errors of a form superseded by a newer one (its problems dropped)


@dataclass(frozen=True, slots=True)
class Form:
    """The sheet holding the unit's form: its cells, header row and the column of each key."""

    sheet: str
    grid: list[list[object]]
    header: int  # zero-based row
    cols: dict[str, int]


# ---------------------------------------------------------------- task rows


_NOTE_LINE = re.compile(r"^(注|备注|说明|填表说明|填报说明)\s*[:：\d\s、.]")


def parse_progress(value: object) -> tuple[float | None, bool]:
    """(progress 0..100, ok): 80, "80%", 0.8, "８０", "80％" all mean 80; empty is (None, True).

    >>> parse_progress("８０％")
    (80.0, True)
    """
    if value is None or isinstance(value, bool):
        return None, value is None
    if isinstance(value, int | float):
        number = float(value)
        percent = False
    else:
        text = squash(nfkc(clean(value)))
        if not text:
            return None, True
        percent = text.endswith("%")
        try:
            number = float(text.rstrip("%"))
        except ValueError:
            return None, False
    if not percent and 0 < number < 1:
        number *= 100  # a percent-formatted cell, or 0.8 typed for 80%
    number = round(number, 2)
    if not 0 <= number <= 100:
        return None, False
    return number, True
_PUNCT = re.compile(r"[\W_]+")
_TEXT_KEY_CACHE: dict[str, str] = {}


def _text_key(text: str) -> str:
    """Task text without punctuation or spaces; the plan's texts are remembered (every row)."""
    key = _TEXT_KEY_CACHE.get(text)
    if key is None:
        key = _PUNCT.sub("", nfkc(text))
        if len(_TEXT_KEY_CACHE) < 10_000:
            _TEXT_KEY_CACHE[text] = key
    return key


def _same_text(a: str, b: str) -> bool:
    x, y = _text_key(a), _text_key(b)
    if x == y:
        return True
    # The upper bounds first: a pasted page of text against a task's line is decided by
    # the lengths alone, not by a matcher whose cost grows with both.
    matcher = SequenceMatcher(None, x, y, autojunk=False)
    return (matcher.real_quick_ratio() >= 0.9 and matcher.quick_ratio() >= 0.9
            and matcher.ratio() >= 0.9)


def _is_data_row(cells: list[object], cols: dict[str, int]) -> bool:
    """A row without an integer 序号 still counts when it has a task text and an answer."""
    has_text = bool(clean(_cell_in(cells, cols.get("text"))))
    answered = any(clean(_cell_in(cells, cols.get(k))) for k in ("status", "progress", "note"))
    return has_text and answered


def _cell_in(cells: list[object], c: int | None) -> object:
    return cells[c] if c is not None and c < len(cells) else None


def data_rows(form: Form) -> Iterable[tuple[int, list[object], int | None]]:
    """(row index, cells, 序号) of every task row; other non-blank rows give (r, cells, -1)."""
    header_cells = [squash(c) for c in form.grid[form.header]]
    no_col = form.cols["no"]
    for r in range(form.header + 1, len(form.grid)):
        cells = form.grid[r]
        if not any(clean(c) for c in cells):
            continue
        if (squash(_cell_in(cells, no_col)) == header_cells[no_col]
                and [squash(c) for c in cells] == header_cells):
            continue  # the header repeated on a new page
        no = parse_no(_cell_in(cells, form.cols["no"]))
        first = next(clean(c) for c in cells if clean(c))
        if no is not None and not _NOTE_LINE.match(first):
            yield r, cells, no
        elif _is_data_row(cells, form.cols) and not _NOTE_LINE.match(first):
            yield r, cells, None
        else:
            yield r, cells, -1


# ---------------------------------------------------------------- the table


# Fill-in text columns a continuation row may carry, and their names in messages.
_TEXT_KEYS = ("note", "issues", "next_steps")
QUOTE_LIMIT = 500  # characters of a quoted cell; longer text says how long it is


def clip(text: str) -> str:
    """The text, or its start with its full length said (never silently cut)."""
    return text if len(text) <= QUOTE_LIMIT else f"{text[:QUOTE_LIMIT]}……（共 {len(text)} 字）"


def _quote(text: str) -> str:
    if len(text) <= QUOTE_LIMIT:
        return f"“{text}”"
    return f"“{text[:QUOTE_LIMIT]}……”（共 {len(text)} 字）"


def _quote_row(cells: list[object], header: list[object], keys: Iterable[int] | None = None) -> str:
    """Every non-empty cell of a row, named by its column header: 进展情况“…”，存在问题“…”."""
    parts = []
    for c in (range(len(cells)) if keys is None else keys):
        text = _para(_cell_in(cells, c))
        if text:
            name = clean(_cell_in(header, c)) or a1(0, c).rstrip("1")
            parts.append(f"{name}{_quote(text)}")
    return "，".join(parts)


def _is_continuation(cells: list[object], cols: dict[str, int]) -> bool:
    """No 序号, task text, status or progress, but text in 进展情况/存在问题/下步计划."""
    if any(clean(_cell_in(cells, cols.get(k))) for k in ("no", "text", "status", "progress")):
        return False
    return any(clean(_cell_in(cells, cols.get(k))) for k in _TEXT_KEYS)


Rows = list[tuple[int, list[object], int | None]]


@dataclass
class _Tally:
    """What the tables of one file yield, gathered across its sheets."""

    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rejected: int = 0
    claimed: set[int] = field(default_factory=set)  # 序号 taken by an entry
    contested: set[int] = field(default_factory=set)  # 序号 whose task text was changed


def validate(base: FileResult, tables: list[tuple[Form, Rows]],
             labels: dict[str, tuple[str, int, int]], plan: Plan,
             previous: Mapping[tuple[int, str], str], first: list[Problem]) -> FileResult:
    """`base` with the tables' entries, and its problems after `first` (the file's own).

    `tables`: the form's table and the tables continuing it on other sheets, each with its
    rows; a 序号 counts once across all of them (a repeat is `duplicate-task`).
    """
    tally = _Tally(problems=list(first))
    for form, rows in tables:
        _check_table(tally, base, form, rows, plan, previous)
        tally.problems.extend(_extra_columns(base, form, rows))
    unit, file, sheet = base.unit, base.file, tables[0][0].sheet
    lacking = tuple(task.no for task in plan.tasks_for(unit)
                    if task.no not in tally.claimed and task.no not in tally.contested)
    if not base.old_plan:  # an older plan's form lacks the tasks added since: not an error
        for no in lacking:
            task = plan.task(no)
            assert task is not None
            tally.problems.append(problem("missing-task", file=file, sheet=sheet, unit=unit,
                                          no=no, task_no=no, text=task.text[:40]))
    for label in (layout.LABEL_REPORTER, layout.LABEL_PHONE):
        value, r, c = labels.get(label, ("", 0, 0))
        if not value:
            cell = a1(r, c) if label in labels else ""
            tally.problems.append(problem(
                "missing-reporter", file=file, sheet=sheet, cell=cell,
                row=r + 1 if label in labels else None, unit=unit, field=label))
    return replace(base, entries=tuple(tally.entries), problems=tuple(tally.problems),
                   rows_rejected=tally.rejected, lacking=lacking)


def _continuations(form: Form, rows: Rows) -> tuple[dict[int, int], dict[int, dict[str, list[str]]]]:
    """Rows without 序号 between task rows: a continuation belongs to the task row above it,
    so it is gathered first (its 存在问题 may answer that row's 滞后). (continuation row ->
    task row, task row -> the texts its continuations add per column key)."""
    task_at = [r for r, _cells, no in rows if no != -1]
    inside = range(task_at[0] + 1, task_at[-1]) if task_at else range(0)
    owner: dict[int, int] = {}
    more: dict[int, dict[str, list[str]]] = {}
    above = -1
    for r, cells, no in rows:
        if no != -1:
            above = r
        elif r in inside and _is_continuation(cells, form.cols):
            owner[r] = above
            for key in _TEXT_KEYS:
                text = _para(_cell_in(cells, form.cols.get(key)))
                if text:
                    more.setdefault(above, {}).setdefault(key, []).append(text)
    return owner, more


def _check_table(tally: _Tally, base: FileResult, form: Form, rows: Rows, plan: Plan,
                 previous: Mapping[tuple[int, str], str]) -> None:
    """Every row of one table: entries, rejected rows and their problems into `tally`."""
    file, sheet, cols, unit = base.file, form.sheet, form.cols, base.unit
    header = form.grid[form.header]
    owner, more = _continuations(form, rows)
    task_at = [r for r, _cells, no in rows if no != -1]
    used: dict[int, str] = {}  # task row -> how it is named in messages, when it was merged
    named: dict[int, str] = {}
    for r, cells, no in rows:
        where = {"file": file, "sheet": sheet, "row": r + 1, "unit": unit}
        if no != -1:
            named[r] = f"序号 {no} 所在行" if no is not None else f"第 {r + 1} 行"
        if r in owner:
            target = owner[r]
            keys = [cols[k] for k in _TEXT_KEYS if k in cols]
            c = next(c for c in keys if clean(_cell_in(cells, c)))
            outcome = "内容已并入该行" if target in used else "但该行未采用，本行内容也未采用"
            tally.problems.append(problem("continuation-row", **where, cell=a1(r, c),
                                          target=named[target], outcome=outcome,
                                          value=_quote_row(cells, header, keys)))
        elif no == -1:
            c = next(c for c, v in enumerate(cells) if clean(v))
            if task_at and r > task_at[-1]:
                texts = (_para(v) for v in cells)
                tally.problems.append(problem("form-extra-rows", **where, cell=a1(r, c),
                                              value=clip(" ".join(t for t in texts if t))))
            else:
                tally.problems.append(problem("form-stray-row", **where, cell=a1(r, c),
                                              value=_quote_row(cells, header)))
        elif _task_row(tally, base, form, r, cells, no, plan, previous, more.get(r, {})):
            used[r] = named[r]


def _task_row(tally: _Tally, base: FileResult, form: Form, r: int, cells: list[object],
              no: int | None, plan: Plan, previous: Mapping[tuple[int, str], str],
              more: Mapping[str, list[str]]) -> bool:
    """One task row: an entry (True), or rejected with its problem (False)."""
    cols = form.cols

    def val(key: str) -> object:
        return _cell_in(cells, cols.get(key))

    def at(key: str) -> dict[str, Any]:
        c = cols.get(key, cols["no"])
        return {"file": base.file, "sheet": form.sheet, "cell": a1(r, c), "row": r + 1,
                "unit": base.unit}

    text = clean(val("text"))
    task, refusal = (None, "unnumbered-task") if no is None else \
        _row_task(plan, base.unit, base.old_plan, no, text)
    if refusal == "unnumbered-task":
        found = problem(refusal, **at("no"), text=_quote(text))
    elif refusal == "task-text-mismatch":
        tally.contested.add(no)
        found = problem(refusal, **at("text"), no=no, text=_quote(text), task_no=no)
    elif refusal is not None:
        found = problem(refusal, **at("no"), no=clean(val("no")), text=_quote(text))
    elif task.no in tally.claimed:
        found = problem("duplicate-task", **at("no"), no=task.no, task_no=task.no)
    else:
        tally.claimed.add(task.no)
        entry, problems = _entry(r, task.no, val, task.text, form, base, previous, more)
        tally.entries.append(entry)
        tally.problems.extend(problems)
        return True
    tally.rejected += 1
    tally.problems.append(found)
    return False


def _row_task(plan: Plan, unit: str, old_plan: bool, no: int, text: str,
              ) -> tuple[Task | None, str | None]:
    """(the task a numbered row is about, None) or (None, the code of why it is refused).

    A form of an earlier plan version is matched by its text (the task may have another
    number now); a current form by its number, the text checked against the plan's."""
    if old_plan:
        task = _task_by_text(plan, no, text)
        if task is None or not plan.accepts(task, unit):
            return None, "form-old-plan-task"
        return task, None
    task = plan.task(no)
    if task is None or not plan.accepts(task, unit):
        return None, "unknown-task"
    if text and not _same_text(text, task.text):
        return None, "task-text-mismatch"
    return task, None


def _task_by_text(plan: Plan, no: int | None, text: str) -> Task | None:
    """The current plan's task a row of an older plan's form is about: its number's task
    when the text still matches, else the task with the same text (renumbered)."""
    task = plan.task(no) if no is not None else None
    if task is not None and (not text or _same_text(text, task.text)):
        return task
    return plan.task_of_key(task_key(text)) if text else None


def _extra_columns(base: FileResult, form: Form, rows: Rows) -> list[Problem]:
    """A warning naming the columns a unit added (not the form's) whose cells in task rows
    hold something: their content is not read, and saying so is all that can be done."""
    known = set(form.cols.values())
    header = form.grid[form.header]
    counts: dict[int, int] = {}
    for _r, cells, no in rows:
        if no == -1:
            continue
        for c, value in enumerate(cells):
            if c not in known and clean(value):
                counts[c] = counts.get(c, 0) + 1
    if not counts:
        return []
    names = "、".join(f"{a1(0, c)[:-1]} 列" + (f"“{clip(h)}”" if (h := clean(_cell_in(header, c)))
                                              else "（无列名）") for c in sorted(counts))
    first = min(counts)
    return [problem("form-extra-columns", file=base.file, sheet=form.sheet,
                    cell=a1(form.header, first), row=form.header + 1, unit=base.unit,
                    columns=names, count=sum(counts.values()))]


# ---------------------------------------------------------------- cell values


_LINE_SPACE = re.compile(r"[^\S\n]+")


def _para(value: object) -> str:
    """Cell text with runs of spaces folded and line breaks kept (the workbook wraps text)."""
    if value is None or value == "":
        return ""
    text = str(clean(value) if isinstance(value, float) else value)
    if "\n" not in text and "\r" not in text and "\u2028" not in text:  # the usual one line
        return _LINE_SPACE.sub(" ", text).strip()
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    lines = (_LINE_SPACE.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


STATUS_LIMIT = 100  # characters of a status with its remarks (滞后（原因见问题栏）)
# A status with a remark: 滞后（原因见问题栏）, 已完成（6月10日）, 已完成100%, 已完成 6.10.
_REMARK = re.compile(r"[(（\[【〔][^()（）\[\]【】〔〕]*[)）\]】〕]")
_TRAILER = re.compile(
    r"(?:[\s,，;；:：、。.!！-]*(?:\d{4}\s*年)?\s*\d{1,2}\s*月\s*(?:\d{1,2}\s*[日号]?|底|初|中旬|上旬|下旬)?"
    r"|[\s,，;；:：、。.!！-]*\d{4}[-./]\d{1,2}[-./]\d{1,2}"
    r"|[\s,，;；:：、。.!！-]*\d{1,2}[./]\d{1,2}"
    r"|[\s,，;；:：、。.!！-]*\d+(?:\.\d+)?\s*%"
    r"|[\s,，;；:：、。.!！-]+)$")
_NEGATION = ("未", "没", "不", "尚", "无")


def _statuses_in(text: str) -> set[Status]:
    """Statuses named anywhere in `text`, longest names first, negated ones (未完成) skipped."""
    found: set[Status] = set()
    for alias in sorted(STATUS_ALIASES, key=len, reverse=True):
        start = text.find(alias)
        while start != -1:
            if not (start and text[start - 1] in _NEGATION and not alias.startswith(_NEGATION)):
                found.add(STATUS_ALIASES[alias])
            text = text[:start] + "\0" * len(alias) + text[start + len(alias):]
            start = text.find(alias)
    return found


def _normalise_status(raw: str) -> Status | None:
    """normalise_status, then again without bracketed remarks and trailing dates or percentages.

    Stays None when what was stripped names a different status (按计划推进（已完成）).
    """
    text = nfkc(raw)
    status = normalise_status(text)
    if status is not None or len(text) > STATUS_LIMIT:
        return status  # a long text is no status with a remark, and costs to strip
    core = text
    for _ in range(5):  # nested or repeated remarks, one layer each time
        stripped = _TRAILER.sub("", _REMARK.sub("", core)).strip()
        if stripped == core:
            break
        core = stripped
    status = normalise_status(core) if core else None
    if status is None:
        return None
    removed = text.replace(core, "", 1)
    return status if _statuses_in(removed) <= {status} else None


def _entry(r: int, no: int, val: Callable[[str], object], task_text: str, form: Form,
           base: FileResult, previous: Mapping[tuple[int, str], str],
           more: Mapping[str, list[str]]) -> tuple[Entry, list[Problem]]:
    file, sheet, cols, unit = base.file, form.sheet, form.cols, base.unit
    found: list[Problem] = []

    def at(key: str) -> dict[str, Any]:
        c = cols.get(key, cols["no"])
        return {"file": file, "sheet": sheet, "cell": a1(r, c), "row": r + 1, "unit": unit,
                "task_no": no}

    def text(key: str) -> str:
        # The row's own text, then what continuation rows under it added.
        return "\n".join(t for t in (_para(val(key)), *more.get(key, ())) if t)

    raw_status = clean(val("status"))
    status = _normalise_status(raw_status) if raw_status else None
    if not raw_status:
        found.append(problem("missing-status", **at("status")))
    elif status is None:
        found.append(problem("unknown-status", **at("status"), value=clip(raw_status)))
    progress, ok = parse_progress(val("progress"))
    if not ok:
        found.append(problem("bad-progress", **at("progress"),
                             value=clip(clean(val("progress")))))
    note = text("note")
    issues = text("issues")
    if status in (Status.DONE, Status.ON_TRACK, Status.BEHIND) and not note:
        found.append(problem("missing-progress-note", **at("note"), status=status.value))
    if status is Status.DONE and progress is not None and progress < 100:
        found.append(problem("done-below-100", **at("progress"), value=f"{progress:g}"))
    if status is Status.NOT_STARTED and progress:
        found.append(problem("not-started-with-progress", **at("progress"), value=f"{progress:g}"))
    if status is Status.BEHIND and not issues and "issues" in cols:
        found.append(problem("behind-without-issue", **at("issues")))
    before = previous.get((no, unit), "")
    if note and before and squash(nfkc(note)) == squash(nfkc(before)):
        found.append(problem("stale-progress", **at("note")))
    entry = Entry(task_no=no, unit=unit, status=status or Status.UNVERIFIED,
                  raw_status=raw_status, progress=progress, note=note, issues=issues,
                  next_steps=text("next_steps"), file=file, sheet=form.sheet, row=r + 1,
                  cell=a1(r, cols["status"]), task_text=task_text)
    return entry, found

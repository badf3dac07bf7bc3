"""Task tables: find the header, line each row up with it, and read tasks and categories.

Every source (Word and Excel tables, the text layouts) becomes a grid of cells. The header
is the row naming a unit column and a text column. A row is read by position first; when
that does not fit (a merged category cell missing, an extra leading category cell, a
leading empty cell, a text export that lost empty cells), its filled cells are matched
right-aligned, since units and time are the last columns. A bare integer cell is the row
number; "1." in front of the text is one too; without numbers, tasks are numbered in order.

Categories: "一、" rows and cells are the first level, "（一）" the second, then the
category column and a heading column (工作任务 beside 具体要求). The deepest level above a
task is its category, written after the levels above it: "一、X" then "（一）Y" gives the
category "X／Y" (numbering dropped), so no level is lost and the plan workbook keeps it in
its one 一级指标 column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gkreport.core.limits import MAX_COLS, MAX_ROWS
from gkreport.core.model import normalise_status
from gkreport.core.problems import GkreportError, Problem, problem
from gkreport.core.text import clean, fold, parse_no, squash, unit_key
from gkreport.plan.rules import (
    COLUMN_LABELS,
    TASK_HEADERS,
    RawTask,
    TaskTable,
    clean_text,
    join_units,
    match_header,
    parse_deadline,
    table_title,
)
from gkreport.plan.unitphrases import parse_units

CATEGORY_SEP = "／"
LEVEL1 = re.compile(r"^[一二三四五六七八九十]+\s*[、.．]\s*")
LEVEL2 = re.compile(r"^[（(]\s*[一二三四五六七八九十]+\s*[)）]\s*[、.．]?\s*")
_NUMBER_PREFIX = re.compile(r"^(\d{1,3})\s*[.．、](?!\d)\s*|^[（(](\d{1,3})[)）]\s*")
_NOTE_ROW = re.compile(r"^(注|备注|说明)\s*\d*\s*[:：\s]")
# Longer than any unit name: a "unit" this long is text out of place (a misaligned row).
PROSE_LENGTH = 24
_LEVELS = 6


@dataclass(frozen=True, slots=True)
class Header:
    """A task table's header: its row, the first data row, and role -> column index."""

    row: int
    start: int
    cols: dict[str, int]
    labels: tuple[str, ...]


def task_columns(cells: list[object]) -> dict[str, int]:
    """Roles of one header row: a lone 牵头单位 column is the unit column; a requirement
    column (具体要求) beside a task column (工作任务) is the text, the other a heading."""
    return _roles(match_header(cells, TASK_HEADERS))


def _roles(found: dict[str, int]) -> dict[str, int]:
    cols = dict(found)
    if "units" not in cols and "lead" in cols:
        cols["units"] = cols.pop("lead")
    if "requirement" in cols:
        if "text" in cols:
            cols["heading"] = cols.pop("text")
        cols["text"] = cols.pop("requirement")
    return cols


def _header_like(cells: list[object]) -> bool:
    """Whether every filled cell of a row is a header name (a second or repeated header)."""
    filled = [c for c in cells if clean(c)]
    return bool(filled) and all(match_header([c], TASK_HEADERS) for c in filled)


def find_task_header(rows: list[list[object]], scan: int = 30) -> Header | dict[str, int]:
    """The header naming a text and a unit column, else the best partial columns found."""
    best: dict[str, int] = {}
    for r, cells in enumerate(rows[:scan]):
        cols = task_columns(cells)
        if "text" in cols and "units" in cols:
            start = r + 1
            # A two-row header: 责任单位 over 牵头单位 | 配合单位.
            if start < len(rows) and _header_like(rows[start]):
                merged = match_header(cells, TASK_HEADERS)
                for key, i in match_header(rows[start], TASK_HEADERS).items():
                    for old in [k for k, j in merged.items() if j == i]:
                        del merged[old]
                    merged[key] = i
                cols = _roles(merged)
                start += 1
            labels = tuple(dict.fromkeys(clean_text(c) for c in cells if clean(c)))
            return Header(r, start, cols, labels)
        if len(cols) > len(best):
            best = cols
    return best


def is_deadline(value: object) -> bool:
    """Whether a cell reads as a 时间节点."""
    try:
        parse_deadline(value, 2000)
    except ValueError:
        return False
    return True


# Last characters of unit names and collective terms (局, 办公室, 街道, 中心, 各村（居）…).
_UNIT_END = re.compile(r"[局委办室科所处股心站队院会部厅署馆团社司镇道乡村居区位门联校学构班组"
                       r"行台军协盟]$")


def prose(units: str, known: frozenset[str] = frozenset()) -> str:
    """The unit cell's text when it reads as prose rather than unit names, else "".

    Prose: a name longer than any unit name, or a cell whose names mostly do not end the
    way unit names do ("同步审签、确保解读质量"); `known` (unit_key of the registry's names,
    aliases and collective names) count as unit names whatever their ending.
    """
    entries = [re.sub(r"（[^（）]*）", "", e.name) for e in parse_units(units).entries]
    if any(len(e) > PROSE_LENGTH and unit_key(e) not in known for e in entries):
        return clean(units)
    ends = sum(bool(_UNIT_END.search(fold(e))) or unit_key(e) in known for e in entries)
    if len(squash(units)) > 12 and ends * 2 < len(entries):
        return clean(units)
    return ""


# ---------------------------------------------------------------- fitting a row


@dataclass
class _Fit:
    """A row's cells given roles."""

    no: object = None
    levels: list[tuple[str, object]] = field(default_factory=list)  # (role, cell)
    text: str = ""
    roles: dict[str, object] = field(default_factory=dict)  # lead, units, partners, ...
    positional: bool = False

    @property
    def units(self) -> str:
        r = self.roles
        return join_units(clean(r.get("lead")), clean(r.get("units")), clean(r.get("partners")))

    def put(self, role: str, value: object) -> None:
        if role == "no":
            self.no = value
        elif role in ("category", "heading"):
            self.levels.append((role, value))
        elif role == "text":
            self.text = clean_text(value)
        else:
            self.roles[role] = value


def _positional(r: list[object], cols: dict[str, int]) -> _Fit:
    fit = _Fit(positional=True)
    by_index = {i: k for k, i in cols.items()}
    for i, v in enumerate(r):
        role = by_index.get(i)
        if role is not None:
            fit.put(role, v)
        elif i < cols["text"] and clean(v):
            # An unlabelled column left of the text: the number, or a category level.
            if parse_no(v) is not None and "no" not in cols and fit.no is None:
                fit.no = v
            elif parse_no(v) is None:
                fit.levels.append(("extra", v))
    return fit


def _aligned(r: list[object], cols: dict[str, int]) -> list[_Fit]:
    """The row's filled cells matched to the header's roles, every way that fits."""
    values = [v for v in r if clean(v)]
    no = None
    for k in range(min(2, len(values) - 1)):
        if parse_no(values[k]) is not None:
            no = values.pop(k)
            break
    if len(values) < 2:
        return []  # one filled cell: read by position only (a split cell, a stray note)
    roles = [k for _, k in sorted((i, k) for k, i in cols.items()) if k != "no"]
    extra = max(0, len(values) - len(roles))
    fits = []
    for s in range(max(0, len(roles) - len(values)) + 1):
        fit = _Fit(no=no, levels=[("extra", v) for v in values[:extra]])
        for role, v in zip(roles[s:], values[extra:], strict=False):
            fit.put(role, v)
        fits.append(fit)
    return fits


def _score(fit: _Fit, cols: dict[str, int]) -> int:
    """How well a row's cells fit the header: units that read as units, a deadline that
    reads as one, a text longer than the category cells."""
    if not fit.text or parse_no(fit.text) is not None or is_deadline(fit.text):
        return -100
    units = fit.units
    score = (3 if not prose(units) else -6) if units else -3
    if units and is_deadline(units):
        score -= 4
    if "deadline" in cols:
        deadline = fit.roles.get("deadline")
        score += 3 if is_deadline(deadline) else -4 if clean(deadline) else -1
    for _, v in fit.levels:
        if is_deadline(v) or len(clean(v)) > len(fit.text):
            score -= 3
    if clean(fit.no) and parse_no(fit.no) is None:
        score -= 2
    return score


def _sound(fit: _Fit, cols: dict[str, int], r: list[object]) -> bool:
    """A reading by position that needs no second look: a number cell holding a number,
    text, units that are neither prose nor a date, and a deadline cell when the table has
    one (one that does not read as a deadline is the document's error, unless another
    cell of the row does read as one)."""
    units = fit.units
    if not (fit.text and units) or prose(units) or is_deadline(units):
        return False
    if clean(fit.no) and parse_no(fit.no) is None and "no" in cols:
        return False
    if "deadline" not in cols:
        return True
    deadline = fit.roles.get("deadline")
    return is_deadline(deadline) or (bool(clean(deadline)) and not any(
        is_deadline(c) for c in r if c is not deadline))


def fit_row(r: list[object], cols: dict[str, int]) -> _Fit:
    """The best reading of a data row: by position, else right-aligned filled cells."""
    positional = _positional(r, cols)
    if _sound(positional, cols, r):
        return positional
    # Ties go to the position, then to the more right-aligned readings.
    candidates = [positional, *reversed(_aligned(r, cols))]
    return max(candidates, key=lambda f: _score(f, cols))


# ---------------------------------------------------------------- categories


def heading_level(text: str) -> tuple[int, str] | None:
    """(0, X) for "一、X", (1, Y) for "（一）Y", else None."""
    for level, rx in enumerate((LEVEL1, LEVEL2)):
        m = rx.match(text)
        if m and m.end() < len(text):
            return level, text[m.end():].strip().rstrip("。.;；:：")
    return None


class _Levels:
    """The category levels above the current row; setting one clears those below it."""

    def __init__(self) -> None:
        self.slots = [""] * _LEVELS

    def set(self, k: int, value: str) -> None:
        if self.slots[k] != value:
            self.slots[k:] = [value] + [""] * (_LEVELS - k - 1)

    def take(self, levels: list[tuple[str, object]]) -> None:
        slot = 2
        for role, v in levels:
            name = clean_text(v)
            if not name:
                continue
            found = heading_level(name)
            if found:
                self.set(*found)
                continue
            slot = max(slot, 3) if role == "heading" else slot
            self.set(min(slot, _LEVELS - 1), name)
            slot += 1

    def path(self) -> str:
        out: list[str] = []
        for s in self.slots:
            if s and (not out or out[-1] != s):
                out.append(s)
        return CATEGORY_SEP.join(out)


def _category_row(r: list[object], text_col: int) -> str | None:
    """The text of a row that is a heading of its own ("一、X", merged across, or a short
    lone cell no further right than the text column), "" for a note under the table, None
    for a task row."""
    cells = [clean_text(c) for c in r if clean(c)]
    filled = list(dict.fromkeys(cells))
    if len(filled) != 1 or parse_no(filled[0]) is not None:
        return None
    only = filled[0]
    if _NOTE_ROW.match(only):
        return ""
    at = next(i for i, c in enumerate(r) if clean(c))
    if heading_level(only) or len(cells) > 1 or (
            at <= text_col and len(only) <= 40 and not only.endswith(("。", "；", ";"))
            and not is_deadline(only)):
        return only
    return None


# ---------------------------------------------------------------- the table


@dataclass
class _Reader:
    """Reads a table's data rows into tasks, collecting problems as it goes."""

    header: Header
    file: str
    sheet: str
    tasks: list[RawTask] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    levels: _Levels = field(default_factory=_Levels)
    progress: int = 0  # task rows with something in a 完成情况-like column
    known: frozenset[str] = frozenset()  # see prose()

    def row(self, r: list[object], at: int) -> None:
        heading = _category_row(r, self.header.cols["text"])
        if heading is not None:
            found = heading_level(heading)
            if found:
                self.levels.set(*found)
            elif heading:
                self.levels.set(0, heading)
            return
        fit = fit_row(r, self.header.cols)
        if not fit.text and not fit.units:
            if parse_no(fit.no) is not None or is_deadline(fit.roles.get("deadline")):
                # A numbered or dated row whose text and units are blank: say so.
                self.problems.append(problem("plan-empty-task", file=self.file,
                                             sheet=self.sheet, row=at))
            return  # else a note or a stray cell under the table
        self.levels.take(fit.levels)
        bad = prose(fit.units, self.known)
        if bad:
            label = next((t for t in self.header.labels if match_header([t], _UNIT_NAMES)),
                         COLUMN_LABELS["units"])
            self.problems.append(problem("plan-misaligned-row", file=self.file, sheet=self.sheet,
                                         row=at, column=label, length=len(squash(bad)),
                                         excerpt=bad[:15]))
            return
        no, text = self._number(fit, at)
        if no is None:
            return
        if not text:
            self.problems.append(problem("plan-empty-task", file=self.file, sheet=self.sheet,
                                         row=at))
            return
        if clean(fit.roles.get("progress")):
            self.progress += 1
        deadline = fit.roles.get("deadline") if "deadline" in self.header.cols else "全年"
        self.tasks.append(RawTask(no, self.levels.path(), text, fit.units, deadline, at))

    def _number(self, fit: _Fit, at: int) -> tuple[int | None, str]:
        """The task's number (its cell, a "1." prefix, else the next in order) and text."""
        text = fit.text
        no = parse_no(fit.no)
        if no is None and clean(fit.no) and fit.positional and "no" in self.header.cols:
            self.problems.append(problem("plan-bad-no", file=self.file, sheet=self.sheet,
                                         row=at, text=clean(fit.no)))
            return None, text
        m = _NUMBER_PREFIX.match(text)
        if m and m.end() < len(text):
            prefixed = int(m.group(1) or m.group(2))
            if no is None or no == prefixed:
                no, text = prefixed, text[m.end():]
        if no is None:
            no = self.tasks[-1].no + 1 if self.tasks else 1
        return no, text


_UNIT_NAMES = {"units": TASK_HEADERS["units"] + TASK_HEADERS["lead"]}
_PROGRESS = {"progress": TASK_HEADERS["progress"]}


def parse_task_table(rows: list[list[object]], *, file: str = "", sheet: str = "",
                     row_offset: int = 0, row_numbers: list[int] | None = None,
                     known: frozenset[str] = frozenset()) -> TaskTable:
    """Find the header in a grid of cells and return its task rows.

    Tolerates title rows above the header, a two-row header (责任单位 over 牵头单位 and
    配合单位), category cells given only on the first row of a group or repeated (merged
    cells), category rows of their own at up to two levels, a repeated header row, rows
    that do not line up with the header (see module docstring), a missing 序号 column,
    numbering that restarts in every category (renumbered, with a warning) and a missing
    deadline column (every task 全年, with a warning). Raises GkreportError when no header
    with a text and a unit column exists, or when the table is a progress report.
    `row_numbers` gives each grid row's number in the source (lines of a text file);
    `known`: the registry's names (see prose()), when there is one.
    """
    rows = [list(r[:MAX_COLS]) for r in rows[:MAX_ROWS]]
    header = find_task_header(rows)
    if not isinstance(header, Header):
        raise _no_header(rows, header, file=file, sheet=sheet)
    title = table_title([c for r in rows[:header.row] for c in r])
    reader = _Reader(header, file, sheet, known=known)
    if "deadline" not in header.cols:
        reader.problems.append(problem("plan-no-deadline-column", file=file, sheet=sheet))
    for k in range(header.start, len(rows)):
        r = rows[k]
        if not any(clean(c) for c in r) or _header_like(r):
            continue  # blank row, or the header repeated on a new page
        reader.row(r, row_numbers[k] if row_numbers else k + 1 + row_offset)
    if reader.tasks and reader.progress * 2 >= len(reader.tasks):
        columns = "、".join(t for t in header.labels if match_header([t], _PROGRESS))
        raise GkreportError(problem("plan-progress-report", file=file, sheet=sheet, detail=(
            f"表头有“{columns}”列，{reader.progress} 行已填写")))
    tasks, renumbered = _renumber(reader.tasks)
    if renumbered:
        reader.problems.append(problem("plan-renumbered", file=file, sheet=sheet,
                                       count=len(tasks)))
    return TaskTable(title, tuple(tasks), tuple(reader.problems), header=header.labels)


def _no_header(rows: list[list[object]], best: dict[str, int], *, file: str, sheet: str,
               ) -> GkreportError:
    """Why a grid has no task table: a progress report, a header missing a column, or none."""
    statuses = sum(1 for r in rows[:200] for c in r if _reported(c))
    if statuses >= 3:
        return GkreportError(problem("plan-progress-report", file=file, sheet=sheet, detail=(
            f"表中有 {statuses} 处“已完成”“按计划推进”或完成比例等填报内容")))
    if len(best) < 2:
        return GkreportError(problem("plan-no-tasks", file=file, sheet=sheet,
                                     detail="没有找到含“工作任务”“责任单位”等列的表头"))
    missing = "text" if "text" not in best else "units"
    synonyms = TASK_HEADERS[missing] + TASK_HEADERS["requirement" if missing == "text" else "lead"]
    return GkreportError(problem("plan-missing-column", file=file, sheet=sheet,
                                 column=COLUMN_LABELS[missing], synonyms="、".join(synonyms)))


def _reported(cell: object) -> bool:
    """A cell a progress report holds: a status (已完成, 进行中) or a percentage."""
    text = clean(cell)
    return bool(text) and len(text) <= 8 and (normalise_status(fold(text)) is not None
                                               or re.fullmatch(r"\d{1,3}(\.\d+)?\s*[%％]", text)
                                               is not None)


def _renumber(tasks: list[RawTask]) -> tuple[list[RawTask], bool]:
    """Number 1..N when 序号 restart in every category (一.1, 一.2, 二.1 …), else unchanged."""
    restarts = [i for i in range(1, len(tasks)) if tasks[i].no <= tasks[i - 1].no]
    if not restarts or any(tasks[i].category == tasks[i - 1].category for i in restarts):
        return tasks, False
    return [RawTask(n, t.category, t.text, t.units_text, t.deadline, t.row)
            for n, t in enumerate(tasks, start=1)], True

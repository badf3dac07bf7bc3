"""The plan's rules: deadlines, header detection with synonyms, task tables, unit lists.

`build_plan` resolves raw task rows against the registry into a `Plan`. The importers,
the plan workbook (planbook.py) and the form reader share these pieces.
"""

from __future__ import annotations

import calendar
import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime

from gkreport.core.model import Collective, Deadline, Plan, Task, Unit, UnitKind
from gkreport.core.problems import GkreportError, Problem, problem
from gkreport.core.text import clean, nfkc, squash

TASK_SHEET = "任务分解表"
COLLECTIVE_SHEET = "集合名称"

# Canonical column -> accepted header names (compared without whitespace). "lead" precedes
# "units" so a table with both 牵头单位 and 责任单位 columns keeps both.
TASK_HEADERS: dict[str, tuple[str, ...]] = {
    "no": ("序号", "编号", "序"),
    "category": ("一级指标", "工作类别", "任务类别", "类别", "分类", "工作板块", "工作领域"),
    "text": ("二级指标", "工作任务", "具体任务", "任务内容", "工作内容", "主要任务", "工作要点",
             "具体工作", "工作措施", "任务"),
    "lead": ("牵头单位", "牵头部门"),
    "units": ("责任单位", "责任部门", "主责单位", "承办单位", "实施单位"),
    "partners": ("配合单位", "协办单位", "配合部门", "参与单位"),
    "deadline": ("时间节点", "完成时限", "完成时间", "时限要求", "时限", "完成期限", "时间安排"),
}
REQUIRED_TASK_COLUMNS = ("text", "units")
COLUMN_LABELS = {"no": "序号", "category": "一级指标", "text": "二级指标", "units": "责任单位",
                 "lead": "牵头单位", "partners": "配合单位", "deadline": "时间节点"}

UNIT_SPLIT = re.compile(r"[、，,；;\s\u3000]+")
# "一、" / "二." numbering in front of a category, stripped so every source names it alike.
CATEGORY_NUMBER = re.compile(r"^[一二三四五六七八九十]+\s*[、.．]\s*")
# Reading limits: a plan is small; a hostile or broken file must not exhaust memory.
MAX_ROWS = 5000
MAX_COLS = 60


# ---------------------------------------------------------------- deadlines

_ONGOING = frozenset({"长期坚持", "长期", "持续推进", "持续", "常态化", "长期推进", "持续开展",
                      "常态化推进", "长期开展", "长期有效", "持续坚持"})
_YEAR_END = frozenset({"全年", "年内", "年底", "年末", "下半年", "全年推进", "全年持续", "年度内",
                       "本年度", "底", "末"})
_QUARTERS = {"一": 3, "1": 3, "二": 6, "2": 6, "三": 9, "3": 9, "四": 12, "4": 12}


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def parse_deadline(value: object, year: int) -> Deadline:
    """Turn a 时间节点 into a date in the plan year; raise ValueError when unknown.

    全年/年内/年底前/下半年 -> Dec 31; 4月/4月底前 -> Apr 30; 6月10日前 -> Jun 10;
    上半年 -> Jun 30; 第三季度 -> Sep 30; 2025年9月 -> Sep 30 of 2025; an Excel date
    cell -> that date; 长期/持续推进/长期坚持 -> no date (never overdue).

    >>> parse_deadline("6月底前", 2025).date
    datetime.date(2025, 6, 30)
    >>> parse_deadline("长期坚持", 2025).date is None
    True
    """
    if isinstance(value, datetime):
        return Deadline(value.date().isoformat(), value.date())
    if isinstance(value, date):
        return Deadline(value.isoformat(), value)
    text = clean(value)
    s = squash(nfkc(text)).rstrip("。.;；,，")
    if not s:
        raise ValueError("时间节点为空")
    if s in _ONGOING:
        return Deadline(text, None)
    # "前" / "之前" / "完成" only say "by": 6月底前 = 6月底 = 6月.
    s = re.sub(r"(之前|以前|前|完成|前完成)$", "", s) or s
    if s in _ONGOING:
        return Deadline(text, None)
    y = year
    m = re.fullmatch(r"(\d{4})年?(.*)", s)
    if m and (m.group(2) == "" or "年" in s[:5]):
        y, s = int(m.group(1)), m.group(2) or "年底"
    if s in _YEAR_END:
        return Deadline(text, date(y, 12, 31))
    if s == "上半年":
        return Deadline(text, date(y, 6, 30))
    m = re.fullmatch(r"第?([一二三四1-4])季度(末|底)?", s)
    if m:
        return Deadline(text, _month_end(y, _QUARTERS[m.group(1)]))
    m = re.fullmatch(r"(\d{1,2})月(\d{1,2})[日号]", s)
    if m and 1 <= int(m.group(1)) <= 12:
        return Deadline(text, date(y, int(m.group(1)), int(m.group(2))))  # ValueError if 2月30日
    m = re.fullmatch(r"(\d{1,2})月(底|末|份|上旬|中旬|下旬)?", s)
    if m and 1 <= int(m.group(1)) <= 12:
        # 上旬/中旬 end on the 10th/20th; the rest mean the month's last day.
        day = {"上旬": 10, "中旬": 20}.get(m.group(2) or "")
        month = int(m.group(1))
        return Deadline(text, date(y, month, day) if day else _month_end(y, month))
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", s)
    if m:
        return Deadline(text, date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    raise ValueError(f"无法识别的时间节点：{text}")


# ---------------------------------------------------------------- tables


@dataclass(frozen=True, slots=True)
class RawTask:
    """A task row as found in a document, before units and deadline are resolved."""

    no: int
    category: str
    text: str
    units_text: str
    deadline: object  # text or date; None when the document has no deadline column
    row: int  # 1-based row (or line / paragraph) number in the source, for problems


@dataclass(frozen=True, slots=True)
class TaskTable:
    """The task rows found in one source, its title line, and what was odd about it."""

    title: str
    tasks: tuple[RawTask, ...]
    problems: tuple[Problem, ...]


_LINE_BREAK = re.compile(r"[ \t\u3000]*[\r\n]+[ \t\u3000]*")
_ASCII_WORD = re.compile(r"[A-Za-z0-9]")


def clean_text(value: object) -> str:
    """Cell text for task texts and categories: a line break inside Chinese text is dropped.

    Word and PDF exports wrap long cells; a space there would change the task text. Only
    between two ASCII letters or digits does a break become a space.
    """
    if isinstance(value, str) and ("\n" in value or "\r" in value):
        def join(m: re.Match[str]) -> str:
            before = value[m.start() - 1] if m.start() else ""
            after = value[m.end()] if m.end() < len(value) else ""
            return " " if _ASCII_WORD.match(before) and _ASCII_WORD.match(after) else ""
        value = _LINE_BREAK.sub(join, value)
    return clean(value)


def category_name(value: object) -> str:
    """A category as written, without its "一、" numbering."""
    return CATEGORY_NUMBER.sub("", clean_text(value))


def match_header(cells: list[object], synonyms: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Map canonical column keys to column indexes for one candidate header row."""
    names = [squash(nfkc(clean(c))) if c is not None else "" for c in cells]
    if not any(names):
        return {}
    exact, anywhere = _synonym_index(synonyms)
    found: dict[str, int] = {}
    used: set[int] = set()
    for i, name in enumerate(names):
        key = exact.get(name)
        if key and key not in found and i not in used:
            found[key] = i
            used.add(i)
    # Then headers that start with a synonym ("责任单位（牵头）"), then short headers that
    # contain one ("具体工作任务"); long cells (titles, task texts) never match so. A cell
    # holding no synonym at all is passed over at once.
    candidates = [(i, name) for i, name in enumerate(names)
                  if name and i not in used and len(name) <= 30 and anywhere.search(name)]
    tests = (lambda name, n: name.startswith(n), lambda name, n: len(name) <= 8 and n in name)
    for test in tests:
        for i, name in candidates:
            if len(found) == len(synonyms) or i in used:
                continue
            for key, options in synonyms.items():
                if key not in found and any(test(name, n) for n in options):
                    found[key] = i
                    used.add(i)
                    break
    return found


_INDEX: dict[int, tuple[dict[str, str], re.Pattern[str]]] = {}


def _synonym_index(synonyms: dict[str, tuple[str, ...]]) -> tuple[dict[str, str], re.Pattern[str]]:
    """synonym -> key (the first key winning), and a regex finding any synonym in a cell;
    cached per synonym table (they are module constants)."""
    cached = _INDEX.get(id(synonyms))
    if cached is None:
        exact: dict[str, str] = {}
        for key, options in synonyms.items():
            for n in options:
                exact.setdefault(n, key)
        anywhere = re.compile("|".join(re.escape(n) for n in sorted(exact, key=len, reverse=True)))
        cached = _INDEX[id(synonyms)] = (exact, anywhere)
    return cached


def find_header(rows: list[list[object]], synonyms: dict[str, tuple[str, ...]],
                required: tuple[str, ...], *, scan: int = 30) -> tuple[int, dict[str, int]] | None:
    """The first row (within `scan`) whose cells name all `required` columns.

    When none does, returns (-1 - r, columns) for the row r naming most columns (at
    least two), so the caller can say which column is missing; None when no row looks
    like a header at all.
    """
    best: tuple[int, dict[str, int]] | None = None
    for r, cells in enumerate(rows[:scan]):
        cols = match_header(cells, synonyms)
        if all(k in cols for k in required):
            return r, cols
        if len(cols) >= 2 and (best is None or len(cols) > len(best[1])):
            best = (r, cols)
    return None if best is None else (-1 - best[0], best[1])


def _task_columns(cells: list[object]) -> dict[str, int]:
    cols = match_header(cells, TASK_HEADERS)
    if "units" not in cols and "lead" in cols:
        cols["units"] = cols.pop("lead")
    return cols


def _header_like(cells: list[object]) -> bool:
    """Whether every filled cell of a row is a header name (a second header row)."""
    filled = [c for c in cells if clean(c)]
    return bool(filled) and all(match_header([c], TASK_HEADERS) for c in filled)


def _find_task_header(rows: list[list[object]], scan: int = 30,
                      ) -> tuple[int, int, dict[str, int]] | tuple[None, None, dict[str, int]]:
    """(header row, first data row, columns); (None, None, best partial columns) if absent."""
    best: dict[str, int] = {}
    for r, cells in enumerate(rows[:scan]):
        cols = _task_columns(cells)
        if all(k in cols for k in REQUIRED_TASK_COLUMNS):
            start = r + 1
            # A two-row header: 责任单位 over 牵头单位 | 配合单位.
            if start < len(rows) and _header_like(rows[start]):
                sub = match_header(rows[start], TASK_HEADERS)
                for key, i in sub.items():
                    for old in [k for k, j in cols.items() if j == i]:
                        del cols[old]
                    cols[key] = i
                if "units" not in cols and "lead" in cols:
                    cols["units"] = cols.pop("lead")
                start += 1
            return r, start, cols
        if len(cols) > len(best):
            best = cols
    return None, None, best


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if float(value).is_integer() else None
    s = squash(nfkc(clean(value))).rstrip(".、")
    return int(s) if s.isdigit() else None


def join_units(lead: str, units: str, partners: str) -> str:
    """Join 牵头单位, 责任单位 and 配合单位 into one list, the lead first and not repeated."""
    if lead and units and unit_key(units).startswith(unit_key(lead)):
        lead = ""  # 牵头单位 A, 责任单位 "A、B": the responsible list already leads with A
    return "、".join(p for p in (lead, units, partners) if p)


def parse_task_table(rows: list[list[object]], *, file: str = "", sheet: str = "",
                     row_offset: int = 0) -> TaskTable:
    """Find the header in a grid of cells and return its task rows.

    Tolerates title rows above the header, a two-row header (责任单位 over 牵头单位 and
    配合单位), category cells given only on the first row of a group or repeated (merged
    cells), a category given as a row of its own, a repeated header row, a missing 序号
    column (numbered in order), numbering that restarts in every category (renumbered,
    with a warning) and a missing deadline column (every task 全年, with a warning).
    Raises GkreportError when no header with the required columns exists.
    """
    rows = [list(r[:MAX_COLS]) for r in rows[:MAX_ROWS]]
    header, start, cols = _find_task_header(rows)
    if header is None or start is None:
        if len(cols) < 2:
            raise GkreportError(problem("plan-no-tasks", file=file, sheet=sheet,
                                        detail="没有找到含“二级指标”“责任单位”等列的表头"))
        missing = next(k for k in REQUIRED_TASK_COLUMNS if k not in cols)
        raise GkreportError(problem("plan-missing-column", file=file, sheet=sheet,
                                    column=COLUMN_LABELS[missing],
                                    synonyms="、".join(TASK_HEADERS[missing] + (
                                        TASK_HEADERS["lead"] if missing == "units" else ()))))
    title = table_title([c for r in rows[:header] for c in r])
    problems: list[Problem] = []
    if "deadline" not in cols:
        problems.append(problem("plan-no-deadline-column", file=file, sheet=sheet))
    header_cells = [squash(c) for c in rows[header]]

    def cell(r: list[object], key: str) -> object:
        i = cols.get(key)
        return r[i] if i is not None and i < len(r) else None

    tasks: list[RawTask] = []
    category = ""
    for r_index in range(start, len(rows)):
        r = rows[r_index]
        excel_row = r_index + 1 + row_offset
        filled = list(dict.fromkeys(clean_text(c) for c in r if clean(c)))
        if not filled or [squash(c) for c in r] == header_cells:
            continue  # blank row, or the header repeated on a new page
        if len(filled) == 1 and _as_int(cell(r, "no")) is None:
            only = filled[0]
            if re.match(r"^(注|备注|说明)[:：\s]", only):
                continue
            # A category as a row of its own: merged across the table, or "一、…" alone.
            if sum(bool(clean(c)) for c in r) > 1 or CATEGORY_NUMBER.match(only):
                category = category_name(only)
                continue
        text = clean_text(cell(r, "text"))
        units = join_units(clean(cell(r, "lead")), clean(cell(r, "units")),
                            clean(cell(r, "partners")))
        if clean(cell(r, "category")):
            category = category_name(cell(r, "category"))
        if not text and not units:
            continue  # a note under the table
        raw_no = cell(r, "no")
        if "no" not in cols or not clean(raw_no):
            no = (tasks[-1].no + 1) if tasks else 1
        else:
            parsed = _as_int(raw_no)
            if parsed is None:
                problems.append(problem("plan-bad-no", file=file, sheet=sheet, row=excel_row,
                                        text=clean(raw_no)))
                continue
            no = parsed
        if not text:
            problems.append(problem("plan-empty-task", file=file, sheet=sheet, row=excel_row))
            continue
        deadline: object = cell(r, "deadline") if "deadline" in cols else "全年"
        tasks.append(RawTask(no, category, text, units, deadline, excel_row))
    tasks, renumbered = _renumber(tasks)
    if renumbered:
        problems.append(problem("plan-renumbered", file=file, sheet=sheet, count=len(tasks)))
    return TaskTable(title, tuple(tasks), tuple(problems))


def table_title(cells: list[object]) -> str:
    """The title among the cells above a table: the one naming a year, else the first.

    Skips "附件" / "附件1" labels and page numbers, which often sit above the title.
    """
    texts = [clean_text(c) for c in cells if clean(c)]
    texts = [t for t in dict.fromkeys(texts)
             if not re.fullmatch(r"附件\s*\d*[:：]?|[-—–]?\s*\d+\s*[-—–]?", t)]
    return next((t for t in texts if year_from_title(t)), texts[0] if texts else "")


def _renumber(tasks: list[RawTask]) -> tuple[list[RawTask], bool]:
    """Number 1..N when 序号 restart in every category (一.1, 一.2, 二.1 …), else unchanged."""
    restarts = [i for i in range(1, len(tasks)) if tasks[i].no <= tasks[i - 1].no]
    if not restarts or any(tasks[i].category == tasks[i - 1].category for i in restarts):
        return tasks, False
    return [RawTask(n, t.category, t.text, t.units_text, t.deadline, t.row)
            for n, t in enumerate(tasks, start=1)], True


# ---------------------------------------------------------------- units


def unit_kind(text: str) -> UnitKind | None:
    """The UnitKind a 类别 cell names, or None."""
    for k in UnitKind:
        if squash(text) == k.value:
            return k
    return None


def unit_key(name: object) -> str:
    """A unit name as compared: no whitespace, NFKC, parentheses full-width."""
    return squash(nfkc(clean(name))).replace("(", "（").replace(")", "）")


def build_collectives(rows: list[tuple[str, str]], units: tuple[Unit, ...], *, file: str = "",
                      ) -> tuple[tuple[Collective, ...], list[Problem]]:
    """Resolve 集合名称 rules: 类别=街镇, 开放, or an explicit list of unit names."""
    out: list[Collective] = []
    problems: list[Problem] = []
    lookup = _name_lookup(units)
    for name, rule in rows:
        r = squash(nfkc(rule))
        m = re.fullmatch(r"类别[=:](.+)", r)
        if r in ("开放", "不限", "任意"):
            out.append(Collective(name, rule, (), open=True))
        elif m and unit_kind(m.group(1)):
            kind = unit_kind(m.group(1))
            out.append(Collective(name, rule, tuple(u.name for u in units if u.kind == kind)))
        else:
            names = [n for n in UNIT_SPLIT.split(rule) if n]
            members = [lookup[unit_key(n)] for n in names if unit_key(n) in lookup]
            if not names or len(members) != len(names):
                problems.append(problem("plan-bad-collective", file=file, sheet=COLLECTIVE_SHEET,
                                        name=name, rule=rule))
            out.append(Collective(name, rule, tuple(members)))
    return tuple(out), problems


def _name_lookup(units: tuple[Unit, ...]) -> dict[str, str]:
    """Name/alias key -> unit name; remembered for the last registry (every task asks)."""
    if _LOOKUP and _LOOKUP[0][0] is units:
        return _LOOKUP[0][1]
    lookup = _build_lookup(units)
    _LOOKUP[:] = [(units, lookup)]
    return lookup


_LOOKUP: list[tuple[tuple[Unit, ...], dict[str, str]]] = []


def _build_lookup(units: tuple[Unit, ...]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for u in units:
        for a in u.aliases:
            lookup.setdefault(unit_key(a), u.name)
    for u in units:
        lookup[unit_key(u.name)] = u.name
    return lookup


# Notes written beside a unit name: 区政府办公室（牵头）, 各街镇（配合）.
_UNIT_NOTE = re.compile(r"（(牵头|牵头单位|配合|配合单位|主责|负责|按职责分工|分别负责)）$")


def split_units(text: str) -> list[str]:
    """Split a 责任单位 cell on 、，,；; and whitespace (line breaks and stray spaces too)."""
    return [p for p in UNIT_SPLIT.split(nfkc(text).replace("(", "（").replace(")", "）")) if p]


def suggest_unit(name: str, units: tuple[Unit, ...], collectives: tuple[Collective, ...] = (),
                 ) -> str:
    """The registered name closest to an unknown one ("" when nothing is close)."""
    lookup = _name_lookup(units)
    key = unit_key(name)
    # 松江区财政局 -> 区财政局: a registered name inside the unknown one, or the reverse.
    inside = [k for k in lookup if len(k) >= 3 and (k in key or key in k)]
    if inside:
        return lookup[max(inside, key=len)]
    choices = list(lookup) + [unit_key(c.name) for c in collectives]
    close = difflib.get_close_matches(key, choices, n=1, cutoff=0.6)
    if not close:
        return ""
    names = {unit_key(c.name): c.name for c in collectives}
    return lookup.get(close[0]) or names.get(close[0], close[0])


def resolve_units(text: str, units: tuple[Unit, ...], collectives: tuple[Collective, ...],
                  ) -> tuple[list[str], list[str], str, bool, list[tuple[str, str]]]:
    """Resolve a unit list: (named units, expected units, lead, open, unknown names + hint).

    Named units come first in the order written, then the members of collective terms in
    registry order. The lead is the first unit or collective term written, unless one is
    marked （牵头）. An open term (各有关单位) adds no expected unit but sets `open`.
    """
    lookup = _name_lookup(units)
    coll = {unit_key(c.name): c for c in collectives}
    named: list[str] = []
    expected: list[str] = []
    unknown: list[tuple[str, str]] = []
    lead = ""
    marked = ""
    is_open = False
    for part in split_units(text):
        note = _UNIT_NOTE.search(part)
        part = _UNIT_NOTE.sub("", part) or part
        key = unit_key(part)
        if key not in lookup and key not in coll and key.endswith("等"):
            key = key[:-1]  # "区发改委等"
        if key in lookup:
            name = lookup[key]
            named.append(name)
            expected.append(name)
        elif key in coll:
            c = coll[key]
            name = c.name
            is_open = is_open or c.open
            expected.extend(c.members)
        else:
            hint = suggest_unit(part, units, collectives)
            unknown.append((part, f"，是否为“{hint}”？" if hint else ""))
            name = part
        lead = lead or name
        if note and note.group(1).startswith(("牵头", "主责")):
            marked = marked or name
    order = {u.name: i for i, u in enumerate(units)}
    named_set = list(dict.fromkeys(named))
    rest = sorted(set(expected) - set(named_set), key=lambda n: order.get(n, 10**6))
    return named_set, named_set + rest, marked or lead, is_open, unknown


def build_plan(*, year: int, title: str, raw: tuple[RawTask, ...], units: tuple[Unit, ...],
               collectives: tuple[Collective, ...], problems: list[Problem], file: str = "",
               sheet: str = TASK_SHEET) -> Plan:
    """Resolve raw task rows against the registry into a Plan (problems collected, not raised)."""
    tasks: list[Task] = []
    seen: set[int] = set()
    for r in raw:
        if r.no in seen:
            problems.append(problem("plan-duplicate-no", file=file, sheet=sheet, row=r.row, no=r.no))
            continue
        seen.add(r.no)
        try:
            deadline = parse_deadline(r.deadline, year)
        except ValueError:
            code = "plan-bad-deadline" if clean(r.deadline) else "plan-empty-deadline"
            problems.append(problem(code, file=file, sheet=sheet, row=r.row,
                                    text=clean(r.deadline)))
            # Kept as due at year end so the task still shows; the error stops `plan show`.
            deadline = Deadline(clean(r.deadline), date(year, 12, 31))
        named, expected, lead, is_open, unknown = resolve_units(r.units_text, units, collectives)
        for name, hint in unknown:
            problems.append(problem("plan-unknown-unit", file=file, sheet=sheet, row=r.row,
                                    name=name, hint=hint))
        if not r.units_text:
            problems.append(problem("plan-no-units", file=file, sheet=sheet, row=r.row))
        tasks.append(Task(no=r.no, category=r.category, text=r.text, units_text=r.units_text,
                          deadline=deadline, named_units=tuple(named),
                          expected_units=tuple(expected), lead_unit=lead, open=is_open))
    return Plan(year=year, title=title, tasks=tuple(tasks), units=units,
                collectives=collectives, problems=tuple(problems), source=file)


def year_from_title(title: str) -> int | None:
    """The plan year named in a title (2025年…), or None."""
    m = re.search(r"(20\d{2})\s*年", nfkc(title))
    return int(m.group(1)) if m else None


def plan_name(title: str) -> str:
    """The plan's name from a title row.

    《2025年…工作要点》任务分解表 -> 2025年…工作要点; 2025年…工作任务分解表 ->
    2025年…工作要点 (the attachment's title names the work points it decomposes).
    """
    name = clean(title)
    m = re.search(r"《(.+?)》", name)
    if m:
        return m.group(1).strip()
    m = re.fullmatch(r"(.+?)工作任务分解表", name)
    if m:
        return f"{m.group(1)}工作要点"
    return re.sub(r"(重点)?(工作)?任务(分解|清单)表?$", "", name).strip() or name

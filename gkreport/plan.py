"""The plan stage: read the plan workbook (任务分解表, 单位名录, 集合名称) into a `Plan`.

Also the pieces the importers share: header detection with synonyms, deadline parsing,
unit-list resolution, and writing a plan workbook.
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from .model import Collective, Deadline, Plan, Task, Unit, UnitKind
from .problems import GkreportError, Problem, problem
from .text import clean, nfkc, squash

PLAN_FILE = "任务分解表.xlsx"
TASK_SHEET = "任务分解表"
UNIT_SHEET = "单位名录"
COLLECTIVE_SHEET = "集合名称"

# Canonical column -> accepted header names (compared without whitespace).
TASK_HEADERS: dict[str, tuple[str, ...]] = {
    "no": ("序号", "编号", "序"),
    "category": ("一级指标", "工作类别", "任务类别", "类别", "分类", "工作板块"),
    "text": ("二级指标", "工作任务", "具体任务", "任务内容", "工作内容", "主要任务", "工作要点", "任务"),
    "units": ("责任单位", "责任部门", "牵头单位", "牵头部门", "主责单位"),
    "partners": ("配合单位", "协办单位", "配合部门", "参与单位"),
    "deadline": ("时间节点", "完成时限", "完成时间", "时限要求", "时限", "完成期限"),
}
REQUIRED_TASK_COLUMNS = ("text", "units")
COLUMN_LABELS = {"no": "序号", "category": "一级指标", "text": "二级指标", "units": "责任单位",
                 "partners": "配合单位", "deadline": "时间节点"}

UNIT_HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("单位名称", "单位", "名称"),
    "kind": ("类别", "单位类别", "类型"),
    "aliases": ("别名", "简称", "其他名称"),
    "contact": ("联系人",),
    "phone": ("联系电话", "电话", "手机"),
}
COLLECTIVE_HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("名称", "集合名称"),
    "rule": ("成员规则", "规则", "成员"),
}

UNIT_SPLIT = re.compile(r"[、，,；;/\s\u3000]+")


# ---------------------------------------------------------------- deadlines

_ONGOING = ("长期坚持", "长期", "持续推进", "持续", "常态化", "长期推进", "持续开展")
_YEAR_END = ("全年", "年内", "年底前", "年底", "年末", "下半年", "年底完成", "全年推进", "年末前")
_QUARTERS = {"一": 3, "1": 3, "二": 6, "2": 6, "三": 9, "3": 9, "四": 12, "4": 12}


def _month_end(year: int, month: int) -> date:
    import calendar

    return date(year, month, calendar.monthrange(year, month)[1])


def parse_deadline(value: object, year: int) -> Deadline:
    """Turn a 时间节点 into a date in the plan year; raise ValueError when unknown.

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
    s = squash(nfkc(text)).rstrip("。.")
    s = re.sub(r"(前|之前|以前|完成)$", "", s) or s
    if not s:
        raise ValueError("时间节点为空")
    if any(s == k or s.startswith(k) for k in _ONGOING):
        return Deadline(text, None)
    y = year
    m = re.match(r"^(\d{4})年(.*)$", s)
    if m:
        y, s = int(m.group(1)), m.group(2) or "年底"
    if s in _YEAR_END or s in ("底", "末"):
        return Deadline(text, date(y, 12, 31))
    if s == "上半年":
        return Deadline(text, date(y, 6, 30))
    m = re.fullmatch(r"第?([一二三四1-4])季度(末|底)?", s)
    if m:
        return Deadline(text, _month_end(y, _QUARTERS[m.group(1)]))
    m = re.fullmatch(r"(\d{1,2})月(\d{1,2})日", s)
    if m and 1 <= int(m.group(1)) <= 12:
        return Deadline(text, date(y, int(m.group(1)), int(m.group(2))))
    m = re.fullmatch(r"(\d{1,2})月(底|末|份|中旬|上旬|下旬)?", s)
    if m and 1 <= int(m.group(1)) <= 12:
        return Deadline(text, _month_end(y, int(m.group(1))))
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", squash(nfkc(text)).rstrip("前"))
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
    row: int  # 1-based row (or paragraph) number in the source, for problems


@dataclass(frozen=True, slots=True)
class TaskTable:
    title: str
    tasks: tuple[RawTask, ...]
    problems: tuple[Problem, ...]


def match_header(cells: list[object], synonyms: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Map canonical column keys to column indexes for one candidate header row."""
    found: dict[str, int] = {}
    # Prefer exact matches, then headers that start with a synonym (e.g. "责任单位（牵头）").
    for exact in (True, False):
        for i, cell in enumerate(cells):
            name = squash(cell)
            if not name or i in found.values():
                continue
            for key, names in synonyms.items():
                if key in found:
                    continue
                if any(name == n if exact else name.startswith(n) for n in names):
                    found[key] = i
                    break
    return found


def find_header(rows: list[list[object]], synonyms: dict[str, tuple[str, ...]],
                required: tuple[str, ...], *, scan: int = 30) -> tuple[int, dict[str, int]] | None:
    """The first row (within `scan`) whose cells name all `required` columns."""
    best: tuple[int, dict[str, int]] | None = None
    for r, cells in enumerate(rows[:scan]):
        cols = match_header(cells, synonyms)
        if all(k in cols for k in required):
            return r, cols
        if len(cols) >= 2 and (best is None or len(cols) > len(best[1])):
            best = (r, cols)
    return None if best is None else (-1 - best[0], best[1])


def parse_task_table(rows: list[list[object]], *, file: str = "", sheet: str = "",
                     row_offset: int = 0) -> TaskTable:
    """Find the header in a grid of cells and return its task rows.

    Tolerates title rows above the header, category cells given only on the first row
    of a group (merged cells), a missing 序号 column (numbered in order) and a missing
    deadline column (every task 全年, with a warning). Raises GkreportError when no
    header with the required columns exists.
    """
    hit = find_header(rows, TASK_HEADERS, REQUIRED_TASK_COLUMNS)
    if hit is None or hit[0] < 0:
        cols = {} if hit is None else hit[1]
        if hit is None or not cols:
            raise GkreportError(problem("plan-no-tasks", file=file, sheet=sheet,
                                        detail="没有找到含“二级指标”“责任单位”等列的表头"))
        missing = next(k for k in REQUIRED_TASK_COLUMNS if k not in cols)
        raise GkreportError(problem("plan-missing-column", file=file, sheet=sheet,
                                    column=COLUMN_LABELS[missing],
                                    synonyms="、".join(TASK_HEADERS[missing])))
    header, cols = hit
    title = next((clean(c) for r in rows[:header] for c in r if clean(c)), "")
    problems: list[Problem] = []
    if "deadline" not in cols:
        problems.append(problem("plan-no-deadline-column", file=file, sheet=sheet))

    def cell(r: list[object], key: str) -> object:
        i = cols.get(key)
        return r[i] if i is not None and i < len(r) else None

    tasks: list[RawTask] = []
    category = ""
    for r_index in range(header + 1, len(rows)):
        r = rows[r_index]
        excel_row = r_index + 1 + row_offset
        text = clean(cell(r, "text"))
        units = clean(cell(r, "units"))
        partners = clean(cell(r, "partners"))
        if clean(cell(r, "category")):
            category = clean(cell(r, "category"))
        if not text and not units:
            continue  # blank line, or a note under the table
        if partners:
            units = f"{units}、{partners}" if units else partners
        raw_no = clean(cell(r, "no"))
        if "no" not in cols or not raw_no:
            no = (tasks[-1].no + 1) if tasks else 1
        else:
            try:
                no = int(float(nfkc(raw_no)))
            except ValueError:
                problems.append(problem("plan-bad-no", file=file, sheet=sheet, row=excel_row,
                                        text=raw_no))
                continue
        if not text:
            problems.append(problem("plan-empty-task", file=file, sheet=sheet, row=excel_row))
            continue
        deadline: object = cell(r, "deadline") if "deadline" in cols else "全年"
        tasks.append(RawTask(no, category, text, units, deadline, excel_row))
    return TaskTable(title, tuple(tasks), tuple(problems))


# ---------------------------------------------------------------- units


def _kind(text: str) -> UnitKind | None:
    for k in UnitKind:
        if squash(text) == k.value:
            return k
    return None


def build_collectives(rows: list[tuple[str, str]], units: tuple[Unit, ...], *, file: str = "",
                      ) -> tuple[tuple[Collective, ...], list[Problem]]:
    """Resolve 集合名称 rules: 类别=街镇, 开放, or an explicit list of unit names."""
    out: list[Collective] = []
    problems: list[Problem] = []
    for name, rule in rows:
        r = squash(nfkc(rule))
        m = re.fullmatch(r"类别[=＝:](.+)", r)
        if r in ("开放", "不限", "任意"):
            out.append(Collective(name, rule, (), open=True))
        elif m and _kind(m.group(1)):
            kind = _kind(m.group(1))
            out.append(Collective(name, rule, tuple(u.name for u in units if u.kind == kind)))
        else:
            names = [n for n in UNIT_SPLIT.split(rule) if n]
            lookup = _name_lookup(units)
            members = [lookup[n] for n in names if n in lookup]
            if not names or len(members) != len(names):
                problems.append(problem("plan-bad-collective", file=file, sheet=COLLECTIVE_SHEET,
                                        name=name, rule=rule))
            out.append(Collective(name, rule, tuple(members)))
    return tuple(out), problems


def _name_lookup(units: tuple[Unit, ...]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for u in units:
        for a in u.aliases:
            lookup.setdefault(squash(a), u.name)
    for u in units:
        lookup[squash(u.name)] = u.name
    return lookup


def split_units(text: str) -> list[str]:
    """Split a 责任单位 cell on 、，,；; and whitespace (line breaks and stray spaces too)."""
    return [p for p in UNIT_SPLIT.split(nfkc(text).replace("(", "（").replace(")", "）")) if p]


def resolve_units(text: str, units: tuple[Unit, ...], collectives: tuple[Collective, ...],
                  ) -> tuple[list[str], list[str], str, bool, list[tuple[str, str]]]:
    """Resolve a unit list: (named units, expected units, lead, open, unknown names + hint)."""
    lookup = _name_lookup(units)
    coll = {squash(c.name): c for c in collectives}
    named: list[str] = []
    expected: list[str] = []
    unknown: list[tuple[str, str]] = []
    lead = ""
    is_open = False
    for part in split_units(text):
        key = squash(part)
        if key in lookup:
            name = lookup[key]
            named.append(name)
            expected.append(name)
            lead = lead or name
        elif key in coll:
            c = coll[key]
            is_open = is_open or c.open
            expected.extend(c.members)
            lead = lead or c.name
        else:
            choices = list(lookup) + list(coll)
            close = difflib.get_close_matches(key, choices, n=1, cutoff=0.5)
            hint = f"，是否为“{lookup.get(close[0], close[0])}”？" if close else ""
            unknown.append((part, hint))
            lead = lead or part
    order = {u.name: i for i, u in enumerate(units)}
    named_set = list(dict.fromkeys(named))
    rest = sorted(set(expected) - set(named_set), key=lambda n: order.get(n, 10**6))
    return named_set, named_set + rest, lead, is_open, unknown


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
            problems.append(problem("plan-bad-deadline", file=file, sheet=sheet, row=r.row,
                                    text=clean(r.deadline)))
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
    m = re.search(r"(20\d{2})\s*年", title)
    return int(m.group(1)) if m else None


def plan_name(title: str) -> str:
    """The plan's name from a title row: 《2025年…工作要点》任务分解表 -> 2025年…工作要点."""
    name = re.sub(r"[《》]", "", clean(title))
    name = re.sub(r"(工作)?任务分解表$", "", name).strip()
    return name


# ---------------------------------------------------------------- workbook I/O


def _sheet_rows(ws: Any) -> list[list[object]]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def _records(rows: list[list[object]], synonyms: dict[str, tuple[str, ...]], required: str,
             ) -> list[dict[str, object]]:
    hit = find_header(rows, synonyms, (required,))
    if hit is None or hit[0] < 0:
        return []
    header, cols = hit
    out = []
    for r in rows[header + 1:]:
        rec = {k: (r[i] if i < len(r) else None) for k, i in cols.items()}
        if clean(rec.get(required)):
            out.append(rec)
    return out


def units_from_records(records: list[dict[str, object]], *, file: str = "",
                       ) -> tuple[tuple[Unit, ...], list[Problem]]:
    units: list[Unit] = []
    problems: list[Problem] = []
    for rec in records:
        name = squash(rec.get("name"))
        kind_text = clean(rec.get("kind"))
        kind = _kind(kind_text)
        if kind is None:
            problems.append(problem("plan-unknown-kind", file=file, sheet=UNIT_SHEET,
                                    name=name, kind=kind_text))
            kind = UnitKind.OTHER
        aliases = tuple(a for a in UNIT_SPLIT.split(clean(rec.get("aliases"))) if a)
        units.append(Unit(name, kind, aliases, clean(rec.get("contact")), clean(rec.get("phone"))))
    return tuple(units), problems


def read_plan(path: Path, *, year: int | None = None) -> Plan:
    """Read a plan workbook (sheets 任务分解表, 单位名录, 集合名称) into a Plan."""
    import zipfile

    from openpyxl import load_workbook

    file = path.name
    if not path.exists():
        raise GkreportError(problem("plan-unreadable", file=str(path), detail="文件不存在"))
    try:
        wb = load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise GkreportError(problem("plan-unreadable", file=file, detail=str(exc))) from exc
    names = {squash(n): n for n in wb.sheetnames}
    for needed in (TASK_SHEET, UNIT_SHEET, COLLECTIVE_SHEET):
        if needed not in names:
            raise GkreportError(problem("plan-missing-sheet", file=file, sheet=needed))
    table = parse_task_table(_sheet_rows(wb[names[TASK_SHEET]]), file=file, sheet=TASK_SHEET)
    problems = list(table.problems)
    units, unit_problems = units_from_records(
        _records(_sheet_rows(wb[names[UNIT_SHEET]]), UNIT_HEADERS, "name"), file=file)
    problems += unit_problems
    coll_rows = [(squash(r.get("name")), clean(r.get("rule"))) for r in
                 _records(_sheet_rows(wb[names[COLLECTIVE_SHEET]]), COLLECTIVE_HEADERS, "name")]
    collectives, coll_problems = build_collectives(coll_rows, units, file=file)
    problems += coll_problems
    found_year = year or year_from_title(table.title)
    if found_year is None:
        found_year = date.today().year
        problems.append(problem("plan-no-year", file=file, sheet=TASK_SHEET, year=found_year))
    title = plan_name(table.title) or f"{found_year}年工作要点"
    return build_plan(year=found_year, title=title, raw=table.tasks, units=units,
                      collectives=collectives, problems=problems, file=file)


def plan_path(workspace: Path) -> Path:
    return workspace / "input" / PLAN_FILE


def load_plan(workspace: Path) -> Plan:
    """The workspace's plan (input/任务分解表.xlsx)."""
    return read_plan(plan_path(workspace))


def default_registry() -> tuple[tuple[Unit, ...], list[tuple[str, str]]]:
    """The bundled default 单位名录 and 集合名称 (data files the office replaces by editing)."""
    data = resources.files("gkreport") / "data"
    with (data / "units.csv").open(encoding="utf-8") as f:
        recs: list[dict[str, object]] = [
            {"name": r["单位名称"], "kind": r["类别"], "aliases": r["别名"],
             "contact": r["联系人"], "phone": r["联系电话"]} for r in csv.DictReader(f)]
    units, _ = units_from_records(recs)
    with (data / "collectives.csv").open(encoding="utf-8") as f:
        colls = [(r["名称"], r["成员规则"]) for r in csv.DictReader(f)]
    return units, colls


def write_plan_workbook(path: Path, *, title: str, tasks: list[RawTask] | tuple[RawTask, ...],
                        units: tuple[Unit, ...], collectives: list[tuple[str, str]]) -> Path:
    """Write a plan workbook; category cells of a group are merged, as in the official table."""
    from .text import column_width
    from .xlsxutil import close_workbook, new_workbook, write_xlsx

    def build(tmp: Path) -> None:
        wb = new_workbook(tmp, title=title or "任务分解表", created=datetime(2000, 1, 1))
        wrap = wb.add_format({"text_wrap": True, "valign": "vcenter", "border": 1,
                              "font_name": "宋体", "font_size": 10})
        center = wb.add_format({"text_wrap": True, "valign": "vcenter", "align": "center",
                                "border": 1, "font_name": "宋体", "font_size": 10})
        head = wb.add_format({"bold": True, "align": "center", "valign": "vcenter", "border": 1,
                              "bg_color": "#D9E1F2", "font_name": "黑体", "font_size": 10})
        big = wb.add_format({"bold": True, "font_size": 14, "align": "center",
                             "font_name": "宋体"})
        ws = wb.add_worksheet(TASK_SHEET)
        headers = ["序号", "一级指标", "二级指标", "责任单位", "时间节点"]
        ws.merge_range(0, 0, 0, len(headers) - 1, title, big)
        ws.set_row(0, 28)
        ws.write_row(1, 0, headers, head)
        for c, w in enumerate((6, 16, 60, 30, 12)):
            ws.set_column(c, c, w)
        r = 2
        i = 0
        rows = list(tasks)
        while i < len(rows):
            j = i
            while j + 1 < len(rows) and rows[j + 1].category == rows[i].category:
                j += 1
            if j > i:
                ws.merge_range(r, 1, r + j - i, 1, rows[i].category, center)
            else:
                ws.write_string(r, 1, rows[i].category, center)
            for k in range(i, j + 1):
                t = rows[k]
                ws.write_number(r + k - i, 0, t.no, center)
                ws.write_string(r + k - i, 2, t.text, wrap)
                ws.write_string(r + k - i, 3, t.units_text, wrap)
                if isinstance(t.deadline, date):
                    ws.write_datetime(r + k - i, 4, datetime.combine(t.deadline, datetime.min.time()),
                                      wb.add_format({"num_format": "yyyy-mm-dd", "border": 1}))
                else:
                    ws.write_string(r + k - i, 4, clean(t.deadline), center)
            r += j - i + 1
            i = j + 1
        ws.freeze_panes(2, 0)
        ws.autofilter(1, 0, max(r - 1, 1), len(headers) - 1)
        ws.repeat_rows(1)
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)

        us = wb.add_worksheet(UNIT_SHEET)
        uh = ["单位名称", "类别", "别名", "联系人", "联系电话"]
        us.write_row(0, 0, uh, head)
        for n, u in enumerate(units, start=1):
            us.write_row(n, 0, [u.name, u.kind.value, "、".join(u.aliases), u.contact, u.phone],
                         wrap)
        for c in range(len(uh)):
            col = [uh[c]] + [[u.name, u.kind.value, "、".join(u.aliases), u.contact, u.phone][c]
                             for u in units]
            us.set_column(c, c, column_width(col))
        us.freeze_panes(1, 0)
        us.autofilter(0, 0, len(units), len(uh) - 1)

        cs = wb.add_worksheet(COLLECTIVE_SHEET)
        cs.write_row(0, 0, ["名称", "成员规则", "说明"], head)
        notes = {"开放": "不据此要求任何单位报送，但接受任何已登记单位对该任务的报送"}
        for n, (name, rule) in enumerate(collectives, start=1):
            note = notes.get(rule, "按单位名录的“类别”展开" if rule.startswith("类别") else "")
            cs.write_row(n, 0, [name, rule, note], wrap)
        cs.set_column(0, 0, 14)
        cs.set_column(1, 1, 18)
        cs.set_column(2, 2, 60)
        close_workbook(wb, path)

    return write_xlsx(path, build)

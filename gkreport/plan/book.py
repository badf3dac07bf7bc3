"""Reading and writing 任务分解表.xlsx: the task sheet, the 单位名录 registry and collective terms.

Also the bundled default registry in gkreport/data (units.csv, collectives.csv), which a
plan import uses when no existing plan workbook supplies the registry.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from gkreport.core.limits import MAX_ROWS
from gkreport.core.model import Plan, Unit, UnitKind
from gkreport.core.problems import GkreportError, Problem, problem
from gkreport.core.text import clean, squash
from gkreport.intake.sheets import Refused, open_book, read_grid, sheet_names
from gkreport.paths import Paths
from gkreport.plan.rules import (
    COLLECTIVE_SHEET,
    TASK_SHEET,
    UNIT_SPLIT,
    RawTask,
    build_collectives,
    build_plan,
    find_header,
    plan_name,
    unit_key,
    unit_kind,
    year_from_title,
)
from gkreport.plan.settings import (
    SETTINGS_SHEET,
    Settings,
    default_settings,
    settings_from_rows,
    write_settings_sheet,
)
from gkreport.plan.table import parse_task_table

UNIT_SHEET = "单位名录"

UNIT_HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("单位名称", "单位", "名称"),
    "kind": ("类别", "单位类别", "类型"),
    "aliases": ("别名", "简称", "其他名称"),
    "contact": ("联系人",),
    "phone": ("联系电话", "电话", "手机"),
    # "新增，请核对" on units a plan import added; read so that the next import keeps it.
    "note": ("备注", "说明"),
}
COLLECTIVE_HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("名称", "集合名称"),
    "rule": ("成员规则", "规则", "成员"),
}

# A city's 单位名录 can list thousands of units; it is still bounded.
MAX_REGISTRY_ROWS = 100_000


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
    """单位名录 rows to Units; an unknown 类别 or a name given twice is a problem."""
    units: list[Unit] = []
    problems: list[Problem] = []
    owner: dict[str, str] = {}
    for rec in records:
        name = squash(rec.get("name"))
        kind_text = clean(rec.get("kind"))
        kind = unit_kind(kind_text)
        if kind is None:
            problems.append(problem("plan-unknown-kind", file=file, sheet=UNIT_SHEET,
                                    name=name, kind=kind_text))
            kind = UnitKind.OTHER
        aliases = tuple(a for a in UNIT_SPLIT.split(clean(rec.get("aliases"))) if a)
        for n in (name, *aliases):
            other = owner.setdefault(unit_key(n), name)
            if other != name or (n == name and any(u.name == name for u in units)):
                problems.append(problem("plan-duplicate-unit", file=file, sheet=UNIT_SHEET,
                                        name=n, other=other))
        units.append(Unit(name, kind, aliases, clean(rec.get("contact")), clean(rec.get("phone"))))
    return tuple(units), problems


class _Book:
    """A plan workbook read with the returned forms' reader (python-calamine): values, every
    cell of a merged range holding its value. A city's registry has ~1,000 units; openpyxl
    took most of a second to load it."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise GkreportError(problem("plan-unreadable", file=str(path), detail="文件不存在"))
        self.file = path.name
        try:
            self.book = open_book(path.read_bytes(), path.suffix.lower() or ".xlsx")
        except (Refused, OSError) as exc:
            raise GkreportError(problem("plan-unreadable", file=path.name,
                                        detail="不是有效的 Excel 工作簿")) from exc
        self.sheetnames = sheet_names(self.book)

    def grid(self, name: str, limit: int = MAX_ROWS) -> list[list[object]]:
        """The sheet as a grid from A1. A sheet longer than `limit` is refused, not cut: a plan
        that silently lost its last units or tasks would be wrong everywhere downstream."""
        height = self.book.cal.get_sheet_by_name(name).height
        try:
            if height > limit:
                raise Refused("file-too-large")
            return read_grid(self.book, name, merges="all", max_rows=limit)
        except Refused as exc:
            if exc.code != "file-too-large":
                raise GkreportError(problem("plan-unreadable", file=self.file, sheet=name,
                                            detail="工作表已损坏，无法读取")) from exc
            raise GkreportError(problem("plan-sheet-too-long", file=self.file, sheet=name,
                                        rows=height, limit=limit)) from exc


def _sheet(wb: _Book, name: str, file: str, limit: int = MAX_ROWS) -> list[list[object]]:
    names = {squash(n): n for n in wb.sheetnames}
    if name not in names:
        raise GkreportError(problem("plan-missing-sheet", file=file, sheet=name, name=name))
    return wb.grid(names[name], limit)


@dataclass(frozen=True, slots=True)
class Registry:
    """单位名录 and 集合名称 as a plan workbook holds them, with each unit's 备注."""

    units: tuple[Unit, ...]
    collectives: tuple[tuple[str, str], ...]  # (name, rule) rows
    notes: tuple[tuple[str, str], ...] = ()  # (unit name, 备注)


def _registry(wb: _Book, file: str) -> tuple[Registry, list[Problem]]:
    records = _records(_sheet(wb, UNIT_SHEET, file, MAX_REGISTRY_ROWS), UNIT_HEADERS, "name")
    units, problems = units_from_records(records, file=file)
    notes = tuple((squash(r.get("name")), clean(r.get("note"))) for r in records
                  if clean(r.get("note")))
    coll_rows = tuple((squash(r.get("name")), clean(r.get("rule"))) for r in
                      _records(_sheet(wb, COLLECTIVE_SHEET, file),
                               COLLECTIVE_HEADERS, "name"))
    return Registry(units, coll_rows, notes), problems


def read_registry(path: Path) -> tuple[Registry, list[Problem]]:
    """单位名录 and 集合名称 of a plan workbook, with their problems."""
    wb = _Book(path)
    return _registry(wb, path.name)


def read_plan(path: Path, *, year: int | None = None) -> Plan:
    """Read a plan workbook (sheets 任务分解表, 单位名录, 集合名称) into a Plan."""
    file = path.name
    wb = _Book(path)
    task_grid = _sheet(wb, TASK_SHEET, file)
    registry, problems = _registry(wb, file)
    units = registry.units
    # The registry's names are unit names, whatever they end with (测试单位0001, 某某公司).
    known = frozenset(unit_key(n) for u in units for n in (u.name, *u.aliases)) | frozenset(
        unit_key(name) for name, _rule in registry.collectives)
    table = parse_task_table(task_grid, file=file, sheet=TASK_SHEET, known=known)
    problems = list(table.problems) + problems
    collectives, coll_problems = build_collectives(list(registry.collectives), units, file=file)
    problems += coll_problems
    if SETTINGS_SHEET in wb.sheetnames:
        problems += settings_from_rows(wb.grid(SETTINGS_SHEET), file=file)[1]
    found_year = year or year_from_title(table.title)
    if found_year is None:
        found_year = date.today().year
        problems.append(problem("plan-no-year", file=file, sheet=TASK_SHEET, year=found_year))
    title = plan_name(table.title) or f"{found_year}年工作要点"
    return build_plan(year=found_year, title=title, raw=table.tasks, units=units,
                      collectives=collectives, problems=problems, file=file)


def read_settings(path: Path) -> Settings:
    """The office's settings in a plan workbook (sheet 设置), or the defaults."""
    if not path.exists():
        return default_settings()
    wb = _Book(path)
    if SETTINGS_SHEET not in wb.sheetnames:
        return default_settings()
    return settings_from_rows(wb.grid(SETTINGS_SHEET), file=path.name)[0]


def plan_path(workspace: Path) -> Path:
    """Where a workspace keeps its plan workbook."""
    return Paths(workspace).plan


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


def plan_json(plan: Plan) -> dict[str, Any]:
    """The plan as `plan show --json` prints it."""
    return {
        "year": plan.year,
        "title": plan.title,
        "fingerprint": plan.fingerprint,
        "tasks": [{
            "no": t.no, "category": t.category, "text": t.text, "units_text": t.units_text,
            "lead_unit": t.lead_unit, "deadline_text": t.deadline.text,
            "deadline": t.deadline.date.isoformat() if t.deadline.date else None,
            "expected_units": list(t.expected_units),
        } for t in plan.tasks],
        "units": [{"name": u.name, "kind": u.kind.value, "aliases": list(u.aliases)}
                  for u in plan.units],
        "problems": [{"code": p.code, "severity": p.severity.value, "message": p.message,
                      "fix": p.fix, "file": p.file, "sheet": p.sheet, "cell": p.cell,
                      "row": p.row} for p in plan.problems],
    }


def write_plan_workbook(path: Path, *, title: str, tasks: list[RawTask] | tuple[RawTask, ...],
                        units: tuple[Unit, ...], collectives: list[tuple[str, str]],
                        notes: dict[str, str] | None = None,
                        settings: Settings | None = None) -> Path:
    """Write a plan workbook; category cells of a group are merged, as in the official table.

    `notes` gives units a 备注 ("新增，请核对"); the column is written only when some has one.
    `settings` (the office's, kept over a re-import) fill the 设置 sheet, else the defaults.
    """
    from gkreport.core.xlsx import close_workbook, new_workbook, write_xlsx

    def build(tmp: Path) -> None:
        wb = new_workbook(tmp, title=title or "任务分解表", created=datetime(2000, 1, 1))
        base = {"valign": "vcenter", "border": 1, "font_name": "宋体", "font_size": 10}
        formats = {
            "wrap": wb.add_format({**base, "text_wrap": True}),
            "center": wb.add_format({**base, "text_wrap": True, "align": "center"}),
            "day": wb.add_format({**base, "align": "center", "num_format": "yyyy-mm-dd"}),
            "head": wb.add_format({**base, "bold": True, "align": "center",
                                   "bg_color": "#D9E1F2", "font_name": "黑体"}),
            "big": wb.add_format({"bold": True, "font_size": 14, "align": "center",
                                  "font_name": "宋体"}),
        }
        _task_sheet(wb.add_worksheet(TASK_SHEET), title, list(tasks), formats)
        _unit_sheet(wb.add_worksheet(UNIT_SHEET), units, notes or {}, formats)
        cs = wb.add_worksheet(COLLECTIVE_SHEET)
        cs.write_row(0, 0, ["名称", "成员规则", "说明"], formats["head"])
        explain = {"开放": "不据此要求任何单位报送，但接受任何已登记单位对该任务的报送"}
        for n, (name, rule) in enumerate(collectives, start=1):
            note = explain.get(rule, "按单位名录的“类别”展开" if rule.startswith("类别") else "")
            for c, v in enumerate((name, rule, note)):
                cs.write_string(n, c, v, formats["wrap"])
        cs.set_column(0, 0, 14)
        cs.set_column(1, 1, 18)
        cs.set_column(2, 2, 60)
        write_settings_sheet(wb.add_worksheet(SETTINGS_SHEET), settings, formats["head"],
                             formats["wrap"])
        close_workbook(wb, path)

    return write_xlsx(path, build)


def _task_sheet(ws: Any, title: str, rows: list[RawTask], f: dict[str, Any]) -> None:
    headers = ["序号", "一级指标", "二级指标", "责任单位", "时间节点"]
    ws.merge_range(0, 0, 0, len(headers) - 1, title, f["big"])
    ws.set_row(0, 28)
    ws.write_row(1, 0, headers, f["head"])
    for c, w in enumerate((6, 16, 60, 30, 12)):
        ws.set_column(c, c, w)
    r = 2
    i = 0
    while i < len(rows):
        j = i
        while j + 1 < len(rows) and rows[j + 1].category == rows[i].category:
            j += 1
        if j > i:
            ws.merge_range(r, 1, r + j - i, 1, rows[i].category, f["center"])
        else:
            ws.write_string(r, 1, rows[i].category, f["center"])
        for k in range(i, j + 1):
            t = rows[k]
            ws.write_number(r + k - i, 0, t.no, f["center"])
            ws.write_string(r + k - i, 2, t.text, f["wrap"])
            ws.write_string(r + k - i, 3, t.units_text, f["wrap"])
            if isinstance(t.deadline, date):
                ws.write_datetime(r + k - i, 4, datetime(t.deadline.year, t.deadline.month,
                                                         t.deadline.day), f["day"])
            else:
                ws.write_string(r + k - i, 4, clean(t.deadline), f["center"])
        r += j - i + 1
        i = j + 1
    ws.freeze_panes(2, 0)
    ws.autofilter(1, 0, max(r - 1, 1), len(headers) - 1)
    ws.repeat_rows(1)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)


def _unit_sheet(us: Any, units: tuple[Unit, ...], notes: dict[str, str], f: dict[str, Any],
                ) -> None:
    from gkreport.core.text import column_width

    uh = ["单位名称", "类别", "别名", "联系人", "联系电话"] + (["备注"] if notes else [])
    table = [[u.name, u.kind.value, "、".join(u.aliases), u.contact, u.phone]
             + ([notes.get(u.name, "")] if notes else []) for u in units]
    us.write_row(0, 0, uh, f["head"])
    for n, values in enumerate(table, start=1):
        for c, v in enumerate(values):
            us.write_string(n, c, v, f["wrap"])
    for c in range(len(uh)):
        us.set_column(c, c, column_width([uh[c]] + [row[c] for row in table]))
    us.freeze_panes(1, 0)
    us.autofilter(0, 0, len(units), len(uh) - 1)

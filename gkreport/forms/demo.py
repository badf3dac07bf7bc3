"""Demo returns: fill generated forms the way real units do, reproducibly from a seed.

Each (unit, task) follows one random trajectory over the plan year (progress never
decreases, 已完成 stays 已完成), so consecutive months agree. Each month a few units do not
return their form and a few returned forms carry the typical mistakes `check` must catch.

The bundled example months are regenerated from the repository root with

    python -m gkreport.forms.demo            # = regenerate_examples(Path("."), ("2025-05", "2025-06"))

which rewrites `input/2025-05/` and `input/2025-06/` (forms are made in a temporary folder;
the June forms carry May's answers as 上月状态/上月进展情况).
"""

from __future__ import annotations

import io
import os
import random
import re
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from gkreport.core.model import Period, Plan, Status, Task, UnitKind
from gkreport.core.problems import GkreportError, a1, problem
from gkreport.forms import layout as L

MISSING_UNITS = 3  # forms not returned each month
LATE_UNITS = 2  # forms returned after the due date each month

# ---------------------------------------------------------------- trajectories


@dataclass(frozen=True, slots=True)
class Answer:
    """What a unit means to report on one task (before any typing mistakes)."""

    task_no: int
    status: Status
    progress: int
    note: str = ""
    issues: str = ""
    next_steps: str = ""


def _round5(x: float) -> int:
    return int(max(0, min(100, 5 * round(x / 5))))


def trajectory(plan: Plan, task: Task, unit: str, seed: int) -> list[tuple[Status, int]]:
    """(status, progress) for months 1..12 of the plan year (index 0 = January)."""
    rng = random.Random(f"{seed}-{unit}-{task.no}")
    due = task.deadline.date.month if task.deadline.date and task.deadline.date.year == plan.year \
        else 12
    start = rng.choices([1, 2, 3, 4, 5, 6, 7, 9], weights=[30, 20, 14, 10, 8, 6, 4, 3])[0]
    one_off = rng.random() < (0.9 if due < 12 else 0.3) and not task.deadline.ongoing
    if due < 12:
        start = min(start, max(1, due - 1))
        done = rng.randint(max(start, due - 2), due)
        if rng.random() < 0.15:  # finishes late: 滞后 once the deadline has passed
            done = due + rng.randint(1, 4)
    else:
        done = rng.randint(max(start + 1, 3), 11)
    offset = rng.uniform(-12, 8)
    lag: set[int] = set()
    # A few units struggle; most rarely lag. A task expects up to ~50 units and one lagging
    # unit makes the whole task 滞后, so a flat rate would paint nearly every task yellow.
    struggling = random.Random(f"{seed}-{unit}").random() < 0.1
    if rng.random() < (0.10 if struggling else 0.005):
        first = rng.randint(max(start, 3), 9)
        lag = set(range(first, first + rng.randint(1, 3)))
    months: list[tuple[Status, int]] = []
    prev = 0
    for m in range(1, 13):
        if m < start:
            p = 0
        elif one_off:
            p = 100 if m >= done else _round5(95 * (m - start + 1) / (done - start + 1))
            p = max(p, 5)
        else:
            p = 100 if (m == 12 and not lag & {11, 12}) else _round5(min(95, 100 * m / 12 + offset))
            p = max(p, 5)
        if m in lag and p < 100:
            p = prev + (5 if rng.random() < 0.5 else 0)
        p = max(p, prev)
        if p == 100:
            status = Status.DONE
        elif p == 0:
            status = Status.NOT_STARTED
        elif m in lag or m > due:
            status = Status.BEHIND
        else:
            status = Status.ON_TRACK
        months.append((status, p))
        prev = p
    return months


# ---------------------------------------------------------------- text

_OPENERS = ("本月围绕“{kw}”", "按照“{kw}”的工作要求", "聚焦“{kw}”", "对照“{kw}”任务要求",
            "结合本单位实际，围绕“{kw}”")
_ACTIONS = ("召开专题推进会{a}次", "梳理排查相关信息{b}条", "在政府门户网站主动公开信息{b}条",
            "组织业务培训{a}场、参训{c}人次", "开展自查自纠，发现并整改问题{a}个",
            "更新完善相关栏目内容{b}条", "发布政策解读材料{a}篇", "收集并回应公众意见建议{b}条",
            "完成{a}批次信息的公开属性审查", "对接市级主管部门，细化工作方案",
            "修订完善相关工作制度{a}项", "安排专人负责日常更新维护")
_TOWN_ACTIONS = ("指导村居（社区）公开信息{b}条", "在街镇公开栏更新信息{b}条",
                 "组织村居（社区）工作人员培训{a}场")
_RESULTS = ("工作按序时进度推进", "累计完成年度任务的{p}%左右", "各项工作有序推进",
            "总体进展顺利", "阶段性目标基本实现")
_DONE = ("该项任务已全部完成", "已按要求完成全部工作", "任务已完成并形成工作台账")
_LAG_REASONS = ("因人员调整，相关工作衔接不够及时", "系统平台升级改造尚未完成",
                "需与市级部门对接，目前仍在等待反馈意见", "涉及多个部门协调，意见尚未统一",
                "专项经费尚未落实到位", "受阶段性重点工作影响，投入力量不足")
_NEXT = ("继续抓好日常信息更新维护", "加强与市级部门的沟通对接", "组织开展专项检查",
         "进一步完善工作机制", "做好信息发布前的审核把关", "及时总结经验做法",
         "加大培训指导力度", "跟踪做好公众反馈意见的办理")
_CATCH_UP = ("倒排工期、挂图作战", "增派人手集中攻坚", "加强沟通协调，尽快明确方案",
             "专题研究解决存在问题")


def keywords(task: Task) -> list[str]:
    """Readable clauses of the task text to quote in a progress note."""
    text = re.sub(r"[“”\"《》]", "", task.text)
    clauses = [c.strip() for c in re.split(r"[，。；,;：:]", text)]
    good = [c for c in clauses if 6 <= len(c) <= 26]
    return good or [text[:20]]


def _numbers(rng: random.Random, progress: int) -> dict[str, int]:
    return {"a": rng.randint(1, 5), "b": rng.randint(5, 60), "c": rng.randint(20, 200),
            "p": progress}


def _write_text(rng: random.Random, task: Task, kind: UnitKind | None, status: Status,
                progress: int, month: int) -> tuple[str, str, str]:
    """(进展情况, 存在问题, 下步计划) for one row."""
    kw = rng.choice(keywords(task))
    opener = rng.choice(_OPENERS).format(kw=kw)
    pool = _ACTIONS + (_TOWN_ACTIONS if kind is UnitKind.STREET_TOWN else ())
    a1, a2 = (a.format(**_numbers(rng, progress)) for a in rng.sample(pool, 2))
    if status is Status.NOT_STARTED:
        note = "" if rng.random() < 0.5 else f"已纳入下阶段工作安排，拟于{min(month + 1, 12)}月启动。"
        return note, "", f"尽快启动{kw}相关工作。"
    if status is Status.DONE:
        return (f"{opener}，{a1}，{a2}，{rng.choice(_DONE)}。", rng.choice(("", "无")),
                rng.choice(("巩固工作成效，做好常态化维护。", "", "持续做好日常维护。")))
    if status is Status.BEHIND:
        reason = rng.choice(_LAG_REASONS)
        return (f"{opener}，{a1}，但{kw}进度慢于计划，目前完成约{progress}%。",
                f"{reason}，导致进度滞后。",
                f"下一步将{rng.choice(_CATCH_UP)}，力争{min(month + 2, 12)}月底前赶上序时进度。")
    result = rng.choice(_RESULTS).format(p=progress)
    return (f"{opener}，{a1}，{a2}，{result}。", rng.choice(("", "", "无", "暂无")),
            f"下一步将{rng.choice(_NEXT)}，确保按时完成年度任务。")


def demo_answers(plan: Plan, period: Period, unit: str, seed: int = 2025,
                 *, salt: str = "") -> tuple[Answer, ...]:
    """The answers a unit means to give this period, one per task of its form."""
    month = max(1, min(12, period.month + 12 * (period.year - plan.year)))
    rng = random.Random(f"{seed}-{period}-{unit}{salt}")
    u = plan.unit(unit)
    out = []
    for task in plan.tasks_for(unit):
        status, progress = trajectory(plan, task, unit, seed)[month - 1]
        note, issues, steps = _write_text(rng, task, u.kind if u else None, status, progress, month)
        out.append(Answer(task.no, status, progress, note, issues, steps))
    return tuple(out)


def missing_units(plan: Plan, period: Period, seed: int = 2025) -> tuple[str, ...]:
    """Units that do not return their form this period."""
    rng = random.Random(f"{seed}-{period}-missing")
    units = list(plan.expected_units)
    chosen = set(rng.sample(units, min(MISSING_UNITS, max(len(units) - 1, 0))))
    return tuple(u for u in units if u in chosen)


def demo_history(plan: Plan, period: Period, seed: int = 2025) -> dict[tuple[int, str], tuple[str, str]]:
    """What the history would hold for `period`: (task_no, unit) -> (status, 进展情况)."""
    gone = set(missing_units(plan, period, seed))
    return {(a.task_no, unit): (str(a.status), a.note)
            for unit in plan.expected_units if unit not in gone
            for a in demo_answers(plan, period, unit, seed)}


# ---------------------------------------------------------------- mistakes


@dataclass(frozen=True, slots=True)
class Mistake:
    """A planted mistake: what kind, where, and the value written."""

    kind: str
    unit: str
    file: str = ""
    cell: str = ""  # A1 on the 填报表 sheet; "" for file-level mistakes
    value: str = ""


@dataclass(frozen=True, slots=True)
class DemoResult:
    """The demo returns written into input/PERIOD."""

    input_dir: Path
    files: tuple[Path, ...]  # every file written, duplicates and the lock file included
    returned: tuple[str, ...]  # units that returned a form
    missing: tuple[str, ...]  # expected units that did not
    mistakes: tuple[Mistake, ...]

    @property
    def written(self) -> int:
        return len(self.files)


_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _cell(row_index: int, key: str) -> str:
    return a1(L.FIRST_DATA_ROW + row_index, L.COLUMN_INDEX[key])


def _plant(period: Period, rows: dict[str, list[dict[str, Any]]],
           seed: int) -> tuple[list[Mistake], set[str]]:
    """Type the usual mistakes into a few units' rows, one kind per unit.

    Returns the planted mistakes and the units that leave 联系电话 empty.
    """
    rng = random.Random(f"{seed}-{period}-mistakes")
    units = sorted(rows)
    rng.shuffle(units)
    used: set[str] = set()
    planted: list[Mistake] = []

    def pick(kind: str, statuses: tuple[Status, ...], change: Any, extra: Any = None) -> None:
        for unit in units:
            fits = [i for i, r in enumerate(rows[unit]) if r["_status"] in statuses
                    and (extra is None or extra(unit, r))]
            if unit in used or not fits:
                continue
            i = rng.choice(fits)
            for key, value in change(unit, rows[unit][i]):
                rows[unit][i][key] = value
                planted.append(Mistake(kind, unit, cell=_cell(i, key), value=str(value)))
            used.add(unit)
            return

    on, done, behind, idle = Status.ON_TRACK, Status.DONE, Status.BEHIND, Status.NOT_STARTED
    pick("status-variant", (on,), lambda u, r: [("status", "推进中")])
    pick("status-variant", (done,), lambda u, r: [("status", "完成")])
    pick("status-variant", (idle,), lambda u, r: [("status", "未开始")])
    pick("progress-percent", (on, behind), lambda u, r: [("progress", f"{r['progress']}%")])
    pick("progress-fraction", (on, behind), lambda u, r: [("progress", r["progress"] / 100)])
    pick("progress-full-width", (on, behind),
         lambda u, r: [("progress", str(r["progress"]).translate(_FULL_WIDTH))])
    pick("unknown-status", (on,), lambda u, r: [("status", "基本完成")])
    pick("missing-progress-note", (on,), lambda u, r: [("note", "")])
    pick("done-below-100", (done,), lambda u, r: [("progress", 90)])
    pick("behind-without-issue", (behind,), lambda u, r: [("issues", "")])
    # A unit that copies last month's text (上月进展情况, prefilled in its form) unchanged.
    pick("stale-progress", (on,), lambda u, r: [("note", r["_prev_note"])],
         lambda u, r: bool(r["_prev_note"]))
    no_phone = next((u for u in units if u not in used), None)
    if no_phone is None:
        return planted, set()
    planted.append(Mistake("missing-reporter", no_phone, cell=a1(L.REPORTER_ROW, 3)))
    return planted, {no_phone}


# ---------------------------------------------------------------- writing

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙朱胡郭何高林罗沈顾陆"
_GIVEN = "伟芳敏静丽强磊洋艳勇军杰娟涛明超华慧琳蕾晨怡婷斌"


def _reporter(unit: str, seed: int) -> tuple[str, str]:
    rng = random.Random(f"{seed}-{unit}-person")  # the same person every month
    name = rng.choice(_SURNAMES) + "".join(rng.sample(_GIVEN, rng.choice((1, 2))))
    return name, f"021-57{rng.randint(0, 999999):06d}"


def _prefilled_notes(wb: Any) -> dict[int, str]:
    """序号 -> 上月进展情况 as prefilled in the form."""
    ws = wb[L.FORM_SHEET]
    no, prev = L.COLUMN_INDEX["no"], L.COLUMN_INDEX["prev_note"]
    return {int(r[no]): str(r[prev] or "")
            for r in ws.iter_rows(min_row=L.FIRST_DATA_ROW + 1, values_only=True)
            if isinstance(r[no], int | float)}


def _fill(wb: Any, dest: Path, rows: list[dict[str, Any]], reporter: tuple[str, str, date]
          ) -> None:
    """Type the answers into the form and save it, as a unit would in Excel."""
    ws = wb[L.FORM_SHEET]
    name, phone, filled = reporter
    r = L.REPORTER_ROW + 1
    ws.cell(r, 2).value = name
    _text(ws.cell(r, 4), phone)
    ws.cell(r, 6).value = filled
    ws.cell(r, 6).number_format = "yyyy-mm-dd"
    for i, row in enumerate(rows):
        for key in ("status", "progress", "note", "issues", "next_steps"):
            value = row.get(key)
            cell = ws.cell(L.FIRST_DATA_ROW + 1 + i, L.COLUMN_INDEX[key] + 1)
            if isinstance(value, str):
                _text(cell, value)
            else:
                cell.value = value
    wb.properties.lastModifiedBy = name
    buf = io.BytesIO()
    wb.save(buf)
    _save_stable(buf.getvalue(), dest, datetime.combine(filled, time(16, 30)))


def _text(cell: Any, value: str) -> None:
    """Store text as text: openpyxl would otherwise make "=1+1" a formula."""
    cell.value = value or None
    if value:
        cell.data_type = "s"


def _save_stable(data: bytes, dest: Path, saved_at: datetime) -> None:
    """Write the xlsx with fixed zip times and modification time, so reruns give equal bytes."""
    stamp = saved_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), body)
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(zi, body)
    dest.write_bytes(out.getvalue())
    ts = saved_at.timestamp()
    os.utime(dest, (ts, ts))


def fill_demo(plan: Plan, period: Period, forms_dir: Path, input_dir: Path, *,
              seed: int = 2025) -> DemoResult:
    """Fill the period's generated forms as units would, into input_dir (existing files of the
    same names are replaced; other files are left alone)."""
    import openpyxl

    from gkreport.forms.writer import form_filename

    forms = {u: forms_dir / form_filename(u, period) for u in plan.expected_units}
    forms = {u: p for u, p in forms.items() if p.exists()}
    if not forms:
        raise GkreportError(problem("demo-no-forms", path=str(forms_dir)))
    gone = set(missing_units(plan, period, seed))
    returned = [u for u in forms if u not in gone]
    books = {u: openpyxl.load_workbook(forms[u]) for u in returned}
    rows: dict[str, list[dict[str, Any]]] = {}
    for unit in returned:
        prev = _prefilled_notes(books[unit])
        rows[unit] = [{"no": a.task_no, "_status": a.status, "_prev_note": prev.get(a.task_no, ""),
                       "status": str(a.status), "progress": a.progress, "note": a.note,
                       "issues": a.issues, "next_steps": a.next_steps}
                      for a in demo_answers(plan, period, unit, seed)]
    mistakes, no_phone = _plant(period, rows, seed)

    rng = random.Random(f"{seed}-{period}-files")
    nxt = period.next
    towns = [u for u in returned if (x := plan.unit(u)) and x.kind is UnitKind.STREET_TOWN]
    renamed = rng.choice(towns or returned)
    duplicated = rng.choice([u for u in returned if u != renamed])
    input_dir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    extra: list[Mistake] = []
    # Most units return in the first days of the next month, before the due date (the 5th);
    # two are a few days late.
    late = set(rng.sample(returned, min(LATE_UNITS, len(returned))))
    for unit in returned:
        unit_rng = random.Random(f"{seed}-{period}-{unit}-date")
        filled = date(nxt.year, nxt.month, unit_rng.randint(6, 9) if unit in late
                      else unit_rng.randint(1, 5))
        name, phone = _reporter(unit, seed)
        data = rows[unit]
        if unit in no_phone:
            phone = ""
        dest = input_dir / forms[unit].name
        if unit == renamed:
            dest = input_dir / f"{unit}{period.month}月报表（终稿）.xlsx"
            extra.append(Mistake("renamed-file", unit, file=dest.name))
        if unit == duplicated:
            # The first version, sent earlier; the unit then sent a corrected copy.
            draft = [{**r, **{k: getattr(a, k) for k in ("note", "issues", "next_steps")}}
                     for r, a in zip(data, demo_answers(plan, period, unit, seed, salt="-draft"),
                                     strict=True)]
            # The draft had a status the office could not read; it was returned, then fixed.
            draft[0] = {**draft[0], "status": "基本完成"}
            old = input_dir / forms[unit].name
            _fill(openpyxl.load_workbook(forms[unit]), old, draft,
                  (name, phone, filled - timedelta(days=2)))
            files.append(old)
            dest = input_dir / f"{Path(forms[unit].name).stem}（修改后）.xlsx"
            extra.append(Mistake("duplicate-form", unit, file=old.name))
        _fill(books.pop(unit), dest, data, (name, phone, filled))
        files.append(dest)
        for m in mistakes:
            if m.unit == unit:
                extra.append(replace(m, file=dest.name))
    _write_register(input_dir, files)
    lock_target = files[rng.randrange(len(files))]
    lock = input_dir / f"~${lock_target.name}"
    owner = _reporter(rng.choice(returned), seed)[0]
    lock.write_bytes(bytes([len(owner)]) + owner.encode("utf-16-le").ljust(160, b"\x20"))
    files.append(lock)
    extra.append(Mistake("lock-file", "", file=lock.name))
    return DemoResult(input_dir, tuple(files), tuple(returned),
                      tuple(u for u in plan.expected_units if u in gone),
                      tuple(m for m in extra))


def _write_register(folder: Path, files: list[Path]) -> None:
    """收文登记.csv: when each form came, as the office records it (a checkout or copy of the
    example would otherwise date every file to the day it was copied)."""
    from gkreport.intake.ingest import REGISTER

    lines = ["文件,收到时间"] + [
        f"{f.name},{datetime.fromtimestamp(f.stat().st_mtime):%Y-%m-%d %H:%M}" for f in files]
    (folder / REGISTER).write_text("\n".join(lines) + "\n", encoding="utf-8")


def regenerate_examples(root: Path, periods: Sequence[str] = ("2025-05", "2025-06"), *,
                        seed: int = 2025) -> list[DemoResult]:
    """Rewrite the bundled example months input/PERIOD from the workspace plan."""
    from gkreport.forms.writer import write_forms
    from gkreport.plan.book import load_plan

    plan = load_plan(root)
    results = []
    for text in periods:
        period = Period.parse(text)
        target = root / "input" / str(period)
        if target.exists():
            shutil.rmtree(target)
        with tempfile.TemporaryDirectory(prefix="gkreport-demo-") as tmp:
            previous = demo_history(plan, period.previous, seed) \
                if str(period.previous) in periods else None
            write_forms(plan, period, Path(tmp), previous=previous)
            results.append(fill_demo(plan, period, Path(tmp), target, seed=seed))
    return results


if __name__ == "__main__":  # python -m gkreport.forms.demo [WORKSPACE]
    for r in regenerate_examples(Path(sys.argv[1] if len(sys.argv) > 1 else ".")):
        print(f"{r.input_dir}: {r.written} files, missing {', '.join(r.missing)}")

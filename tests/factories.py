"""Builders shared by the tests: forms made by the project and filled as units fill them."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import openpyxl

from gkreport.consolidate import summarise
from gkreport.core.model import Deadline, Entry, Period, Returns, Status, Task
from gkreport.core.report import Report
from gkreport.forms import layout

PERIOD = Period(2025, 6)
UNIT = "区财政局"  # tasks 1, 4, 5, 7, 13, 16, 19 -> rows 6..12
NOS = (1, 4, 5, 7, 13, 16, 19)
LAST = 12  # last data row of the filled form
NOT_ITS_TASK = 15  # neither expected from the unit nor open to any unit


def make_entry(no: int, unit: str, status: Status, progress: float | None = None, *,
               note: str = "有进展", issues: str = "", raw: str | None = None,
               file: str | None = None, row: int = 6) -> Entry:
    """One task x unit row as ingest would read it from `file` (default: <unit>.xlsx)."""
    return Entry(task_no=no, unit=unit, status=status, raw_status=status.value if raw is None
                 else raw, progress=progress, note=note, issues=issues, next_steps="继续推进",
                 file=file or f"{unit}.xlsx", sheet="填报表", row=row, cell=f"H{row}")


def make_task(no: int, units: tuple[str, ...], deadline: date | Deadline | None, *,
              text: str = "", category: str = "一、基础", open_: bool = False) -> Task:
    """A resolved task; `deadline` None means 长期坚持 (no deadline)."""
    if not isinstance(deadline, Deadline):
        deadline = Deadline(deadline.isoformat() if deadline else "长期坚持", deadline)
    return Task(no=no, category=category, text=text or f"任务{no}", units_text="、".join(units),
                deadline=deadline, named_units=units, expected_units=units,
                lead_unit=units[0] if units else "", open=open_)


def note_for(no: int) -> str:
    return f"第{no}项：本月召开专题会议，完成信息发布 3 条"


def fill_form(source: Path, target: Path, damage: Callable[[object], None] | None = None,
              *, fill_date: datetime = datetime(2025, 7, 3)) -> Path:
    """Fill a generated form the way a careful unit does, then apply `damage` to it."""
    wb = openpyxl.load_workbook(source)
    ws = wb[layout.FORM_SHEET]
    ws["B3"], ws["D3"], ws["F3"] = "张三", "021-57771234", fill_date
    col = {c.key: i + 1 for i, c in enumerate(layout.COLUMNS)}
    for r in range(layout.FIRST_DATA_ROW + 1, ws.max_row + 1):
        no = ws.cell(r, col["no"]).value
        if not isinstance(no, int):
            continue
        ws.cell(r, col["status"], "按计划推进")
        ws.cell(r, col["progress"], 50)
        ws.cell(r, col["note"], note_for(no))
        ws.cell(r, col["next_steps"], "继续推进")
    if damage:
        damage(wb)
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    return target


def form(wb: object) -> object:
    return wb[layout.FORM_SHEET]  # type: ignore[index]


def found(r: Returns) -> list[tuple[str, str]]:
    return [(p.code, p.cell) for p in r.problems]


def assert_reconciled(r: Returns) -> None:
    assert r.rows.read == r.rows.merged + r.rows.rejected
    assert r.files.found == r.files.read + r.files.refused + r.files.skipped


# ---------------------------------------------------------------- damages


def set_cells(**cells: object) -> Callable[[object], None]:
    def damage(wb: object) -> None:
        for ref, value in cells.items():
            form(wb)[ref] = value
    return damage



def merged_status_and_percent(wb: object) -> None:
    """完成状态 merged over tasks 5 and 7, "100%" typed for task 1, a note on two lines."""
    ws = form(wb)
    ws["H9"] = None
    ws.merge_cells("H8:H9")
    ws["I6"], ws["I6"].number_format = 1, "0%"
    ws["J6"] = "1.召开会议\n2.发布信息"



def no_metadata_sheet(wb: object) -> None:
    del wb[layout.META_SHEET]  # type: ignore[attr-defined]


def no_metadata(wb: object) -> None:
    """Neither the hidden sheet nor the gkreport.* document properties (a re-typed form)."""
    from openpyxl.packaging.custom import CustomPropertyList

    no_metadata_sheet(wb)
    wb.custom_doc_props = CustomPropertyList()  # type: ignore[attr-defined]


def no_metadata_no_unit(wb: object) -> None:
    no_metadata(wb)
    form(wb)["B2"] = None




def build_report(**parts: object) -> Report:
    """A hand-built Report, its summary computed from its parts as consolidate does."""
    p = parts
    p["summary"] = summarise(p["period"], p["plan"], p["tasks"], p["units"],  # type: ignore[arg-type]
                             p["problems"], p["files"], p["rows"], p.get("previous_period"),
                             p.get("due"))
    return Report(**p)  # type: ignore[arg-type]


def rebuild(report: Report, **changes: object) -> Report:
    """`dataclasses.replace` for a Report: its summary recomputed from the changed parts."""
    from dataclasses import fields

    parts = {f.name: getattr(report, f.name) for f in fields(Report)
             if f.init and f.name != "summary"}
    return build_report(**{**parts, **changes})


def with_previous(report: Report, previous: Period | None) -> Report:
    """The same report compared with another previous period."""
    return rebuild(report, previous_period=previous)


def render_memo(report: Report, out_dir: Path, **options: object) -> list[Path]:
    """Write 简报 .md, .html and .docx of a report into out_dir, as consolidate does."""
    from gkreport.render.memo import MEMO_TEMPLATES, render_outputs, write_outputs

    return write_outputs(render_outputs(report, out_dir, (*MEMO_TEMPLATES, "docx"),
                                        **options))  # type: ignore[arg-type]


def render_notice(report: Report, out_dir: Path, **options: object) -> Path:
    """Write 催报通知 of a report into out_dir, as consolidate does."""
    from gkreport.render.memo import NOTICE_TEMPLATE, render_outputs, write_outputs

    return write_outputs(render_outputs(report, out_dir, (NOTICE_TEMPLATE,),
                                        **options))[0]  # type: ignore[arg-type]


# ---------------------------------------------------------------- a small office's year

SMALL_UNITS = (("区甲局", "区政府部门", ""), ("区乙局", "区政府部门", ""), ("区丙局", "区政府部门", ""),
               ("东街道", "街镇", ""), ("西镇", "街镇", ""))
# (no, category, text, units, deadline)
SMALL_TASKS = (
    (1, "一、公开", "全面推进年度政府信息公开工作", "区甲局、区乙局", "全年"),
    (2, "一、公开", "做好重要政策解读工作", "区甲局", "4月底前"),
    (3, "二、互动", "办好政府开放月活动", "东街道、西镇", "9月底前"),
    (4, "二、互动", "长期坚持做好政务新媒体管理", "区丙局", "长期坚持"),
    (5, "三、质效", "完成政府网站集约化改造", "区乙局、区丙局", "上半年"),
)


def small_workspace(root: Path, *, tasks: tuple = SMALL_TASKS, units: tuple = SMALL_UNITS,
                    due_day: int = 5) -> Path:
    """A workspace with a five-unit, five-task plan of 2025 (the plan workbook as the office
    keeps it: written by the project, settings included)."""
    from gkreport.core.model import Unit, UnitKind
    from gkreport.plan.book import write_plan_workbook
    from gkreport.plan.rules import RawTask
    from gkreport.plan.settings import Settings

    (root / "input").mkdir(parents=True, exist_ok=True)
    write_plan_workbook(
        root / "input" / "任务分解表.xlsx", title="2025年某区政务公开工作要点",
        tasks=[RawTask(no, cat, text, us, deadline, no) for no, cat, text, us, deadline in tasks],
        units=tuple(Unit(name, UnitKind(kind), tuple(a for a in aliases.split("、") if a))
                    for name, kind, aliases in units),
        collectives=[("各街镇", "类别=街镇"), ("区政府各部门", "类别=区政府部门"), ("各有关单位", "开放")],
        settings=Settings(due_day=due_day, sender="区政府办公室", contact="王五", phone="57771234"))
    return root


def fill_unit_form(form: Path, target: Path, answers: dict[int, object], *,
                   received: datetime | None = None, fill_date: datetime | None = None) -> Path:
    """A generated form filled with a status per task number (Status or text typed), the way
    a unit fills it; its file time set to when the office received it."""
    import os

    wb = openpyxl.load_workbook(form)
    ws = wb[layout.FORM_SHEET]
    ws["B3"], ws["D3"] = "李四", "021-57770000"
    ws["F3"] = fill_date or received or datetime(2025, 7, 1)
    col = {c.key: i + 1 for i, c in enumerate(layout.COLUMNS)}
    for r in range(layout.FIRST_DATA_ROW + 1, ws.max_row + 1):
        no = ws.cell(r, col["no"]).value
        if not isinstance(no, int) or no not in answers:
            continue
        status = answers[no]
        text = status.value if isinstance(status, Status) else str(status)
        ws.cell(r, col["status"], text)
        ws.cell(r, col["progress"], 100 if status is Status.DONE else 50)
        ws.cell(r, col["note"], f"序号{no}：{text}，本月开展了相关工作")
        ws.cell(r, col["issues"], "人手紧张" if status is Status.BEHIND else "")
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    if received is not None:
        os.utime(target, (received.timestamp(), received.timestamp()))
    return target
# ---------------------------------------------------------------- packages built by hand


def rezip(src: Path, dst: Path, parts: dict[str, bytes | None] | None = None, *,
          bad_crc: str = "", local_name: str = "",
          twice: tuple[str, bytes] | None = None) -> Path:
    """Copy a zip package, replacing (bytes) or dropping (None) parts, then damage it:
    `bad_crc` gets a wrong CRC, `local_name` a local header name that differs from the
    central directory's, `twice` = (name, body) adds a second part of that name."""
    import warnings

    parts = parts or {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zout:
        names = [i.filename for i in zin.infolist()]
        for name in [*names, *(n for n in parts if n not in names)]:
            body = parts.get(name, zin.read(name) if name in names else None)
            if body is not None:
                zout.writestr(name, body)
        if twice:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "Duplicate name": the point
                zout.writestr(*twice)
    raw = bytearray(buffer.getvalue())
    for name in filter(None, (bad_crc, local_name)):
        encoded = name.encode()
        at = raw.find(b"PK\x01\x02")
        while raw[at + 46:at + 46 + len(encoded)] != encoded:
            at = raw.find(b"PK\x01\x02", at + 4)
        local = struct.unpack_from("<I", raw, at + 42)[0]
        if name == bad_crc:
            struct.pack_into("<I", raw, at + 16, 0xDEADBEEF)
            struct.pack_into("<I", raw, local + 14, 0xDEADBEEF)
        if name == local_name:
            raw[local + 30 + len(encoded) - 5] = ord("X")
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(bytes(raw))
    return dst


def write_cfb(path: Path, streams: dict[str, bytes], *, mini: bool = False) -> Path:
    """An OLE2 compound file (what .xls and an encrypted .xlsx are) holding `streams`; with
    `mini`, streams under 4,096 bytes go to the mini stream, as Excel stores small ones."""
    size, end, free = 512, 0xFFFFFFFE, 0xFFFFFFFF
    sectors: list[bytes] = []
    fat: list[int] = []

    def alloc(blob: bytes) -> int:
        blob += b"\0" * (-len(blob) % size)
        start = len(sectors) if blob else end
        for i in range(len(blob) // size):
            sectors.append(blob[i * size:(i + 1) * size])
            fat.append(len(sectors) if i < len(blob) // size - 1 else end)
        return start

    entries, small, minifat = [], b"", []
    for name, body in streams.items():
        if mini and len(body) < 4096:
            n = -(-len(body) // 64)
            start = len(small) // 64
            minifat += [start + i + 1 if i < n - 1 else end for i in range(n)]
            small += body.ljust(n * 64, b"\0")
            entries.append((name, start if n else end, len(body)))
        else:
            body = body.ljust(4096, b"\0")  # a regular stream is at least the cutoff
            entries.append((name, alloc(body), len(body)))
    root_start = alloc(small)
    minifat_start = alloc(b"".join(struct.pack("<I", v) for v in minifat))

    def entry(name: str, kind: int, start: int, length: int, child: int = free,
              right: int = free) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return (encoded.ljust(64, b"\0") + struct.pack("<HBB", len(encoded), kind, 1)
                + struct.pack("<III", free, right, child) + b"\0" * 36
                + struct.pack("<II", start, length) + b"\0" * 4)

    directory = entry("Root Entry", 5, root_start, len(small), child=1)
    for i, (name, start, length) in enumerate(entries):
        directory += entry(name, 2, start, length,
                           right=i + 2 if i + 1 < len(entries) else free)
    dir_start = alloc(directory)
    n_fat = 1
    while n_fat * 128 < len(sectors) + n_fat:
        n_fat += 1
    fat_start = len(sectors)
    fat += [0xFFFFFFFD] * n_fat
    fat_bytes = b"".join(struct.pack("<I", v) for v in fat).ljust(n_fat * size, b"\xff")
    sectors += [fat_bytes[i * size:(i + 1) * size] for i in range(n_fat)]
    difat = [fat_start + i for i in range(n_fat)] + [free] * (109 - n_fat)
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<IIIIIIIII", 0, n_fat, dir_start, 0, 4096, minifat_start,
                            -(-len(minifat) * 4 // size), end, 0)
              + b"".join(struct.pack("<I", v) for v in difat))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + b"".join(sectors))
    return path


def _biff(kind: int, body: bytes) -> bytes:
    return struct.pack("<HH", kind, len(body)) + body


def xls_number(row: int, col: int, value: float) -> bytes:
    """A BIFF8 NUMBER record: `value` at zero-based (row, col)."""
    return _biff(0x0203, struct.pack("<HHHd", row, col, 15, value))


def xls_text(row: int, col: int, index: int) -> bytes:
    """A BIFF8 LABELSST record: shared string `index` at zero-based (row, col)."""
    return _biff(0x00FD, struct.pack("<HHHI", row, col, 15, index))


def xls_workbook(sheets: dict[str, list[bytes]], strings: list[str] | tuple[str, ...] = ()) -> bytes:
    """A minimal BIFF8 Workbook stream, as old Excel writes one: the globals (code page,
    shared strings, one BOUNDSHEET per sheet), then each sheet's cell records."""
    def bof(kind: int) -> bytes:
        return _biff(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 6))

    def boundsheet(offset: int, name: str) -> bytes:
        return _biff(0x0085, struct.pack("<IBBBB", offset, 0, 0, len(name), 1)
                     + name.encode("utf-16-le"))

    sst = struct.pack("<II", len(strings), len(strings)) + b"".join(
        struct.pack("<HB", len(s), 1) + s.encode("utf-16-le") for s in strings)
    head = bof(0x0005) + _biff(0x0042, struct.pack("<H", 1200))
    tail = (_biff(0x00FC, sst) if strings else b"") + _biff(0x000A, b"")
    offset = len(head) + sum(len(boundsheet(0, n)) for n in sheets) + len(tail)
    listing, bodies = b"", b""
    for name, records in sheets.items():
        listing += boundsheet(offset + len(bodies), name)
        bodies += bof(0x0010) + b"".join(records) + _biff(0x000A, b"")
    return head + listing + tail + bodies

"""The office's settings (sheet 设置 of the plan workbook): the due day, sender and contact.

The office sets them once, in Excel; `forms --due/--contact` override them for one period.
The defaults (gkreport/data/settings.csv) are written into the sheet when it is missing.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from gkreport.core.problems import Problem, problem
from gkreport.core.text import clean
from gkreport.ledger import DEFAULT_DUE_DAY

SETTINGS_SHEET = "设置"
_KEYS = {"报送截止日": "due_day", "发文单位": "sender", "联系人": "contact", "联系电话": "phone"}


@dataclass(frozen=True, slots=True)
class Settings:
    due_day: int = DEFAULT_DUE_DAY  # the due date is this day of the month after the period
    sender: str = ""  # 发文单位: who signs the notice and the forms' instructions
    contact: str = ""
    phone: str = ""

    @property
    def contact_line(self) -> str:
        """“区政府办公室 张三 57xxxxxx”, whatever of it is set."""
        return " ".join(x for x in (self.sender, self.contact, self.phone) if x)


def _defaults() -> list[tuple[str, str, str]]:
    data = resources.files("gkreport") / "data" / "settings.csv"
    with data.open(encoding="utf-8") as f:
        return [(r["项目"], r["设置"], r["说明"]) for r in csv.DictReader(f)]


def settings_from_rows(rows: list[list[object]], *, file: str = "",
                       ) -> tuple[Settings, list[Problem]]:
    """Settings from the 设置 sheet's rows (项目 | 设置); what is missing keeps its default."""
    values: dict[str, Any] = {_KEYS[k]: v for k, v, _ in _defaults() if k in _KEYS}
    problems: list[Problem] = []
    for row in rows:
        key = clean(row[0]) if row else ""
        if key not in _KEYS or len(row) < 2:
            continue
        values[_KEYS[key]] = clean(row[1])
    day = str(values["due_day"]).removesuffix(".0")
    if not day.isdigit() or not 1 <= int(day) <= 28:
        problems.append(problem("plan-bad-setting", file=file, sheet=SETTINGS_SHEET,
                                name="报送截止日", value=day, hint="1–28 之间的整数"))
        day = "5"
    values["due_day"] = int(day)
    return Settings(**values), problems


def default_settings() -> Settings:
    return settings_from_rows([[k, v] for k, v, _ in _defaults()])[0]


def write_settings_sheet(ws: Any, settings: Settings | None, head: Any, cell: Any) -> None:
    """The 设置 sheet (xlsxwriter): 项目 | 设置 | 说明, the office's values or the defaults."""
    values = {}
    if settings is not None:
        values = {k: str(getattr(settings, attr)) for k, attr in _KEYS.items()}
    ws.write_row(0, 0, ["项目", "设置", "说明"], head)
    for r, (key, default, note) in enumerate(_defaults(), start=1):
        ws.write_string(r, 0, key, cell)
        ws.write_string(r, 1, values.get(key, default), cell)
        ws.write_string(r, 2, note, cell)
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 24)
    ws.set_column(2, 2, 70)


def ensure_settings_sheet(path: Path) -> bool:
    """Add the 设置 sheet, with the defaults, to a plan workbook that lacks it (an older or
    hand-made one); True when added. The workbook is otherwise left as it is."""
    import python_calamine as pc
    from openpyxl import load_workbook

    # Looked up without loading the workbook: openpyxl takes most of a second on a plan
    # with a big registry, on every `forms`, for a sheet that is nearly always there.
    if SETTINGS_SHEET in pc.CalamineWorkbook.from_path(str(path)).sheet_names:
        return False
    wb = load_workbook(path)
    ws = wb.create_sheet(SETTINGS_SHEET)
    ws.append(["项目", "设置", "说明"])
    for row in _defaults():
        ws.append(list(row))
    for col, width in (("A", 14), ("B", 24), ("C", 70)):
        ws.column_dimensions[col].width = width
    from gkreport.core.xlsx import atomic_path

    with atomic_path(path) as tmp:
        wb.save(tmp)
    return True

"""Tasks from a plan's numbered body text, for documents without a task table.

`一、` headings (or a finer `（一）` heading below one) name the category; numbered items
(`1.` `1．` `1、` `（1）`) are tasks; a parenthesis at an item's end names its units and
deadline ("（牵头单位：A，责任单位：B、C，完成时限：6月底前）").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gkreport.core.problems import problem
from gkreport.core.text import clean, fold
from gkreport.plan.rules import (
    RawTask,
    TaskTable,
    category_name,
    clean_text,
    join_units,
    table_title,
)
from gkreport.plan.textsource import PAGE_NUMBER

_DOC_TITLE = re.compile(r"^(20\d{2})\s*年.{1,40}(工作要点|工作计划|实施方案|任务清单)$")


def document_title(lines: list[str]) -> str:
    """The document's own title line (2025年…工作要点), if any."""
    for line in lines:
        s = clean(line).strip("《》")
        if _DOC_TITLE.match(fold(s)):
            return s
    return ""


HEADING = re.compile(r"^[一二三四五六七八九十]+\s*[、.．]\s*\S")
_SUBHEAD = re.compile(r"^[（(]\s*[一二三四五六七八九十]+\s*[）)]\s*(\S.*)$")
ITEM_KINDS = {
    "dot": re.compile(r"^\d{1,3}\s*[.．、](?!\d)\s*(\S.*)$"),
    "paren": re.compile(r"^[（(]\s*\d{1,3}\s*[）)]\s*(\S.*)$"),
    "subhead": _SUBHEAD,
}
_KEYS = ("牵头单位|牵头部门|责任单位|责任部门|主责单位|配合单位|协办单位|配合部门|"
         "完成时限|时间节点|完成时间|时限要求|时限")
_FIELD = re.compile(rf"({_KEYS})\s*[:：]")
UNITS_PAREN = re.compile(rf"[（(]\s*((?:{_KEYS})\s*[:：].*)[）)]\s*[。.;；]?\s*$")
_FIELD_KIND = {"牵头单位": "lead", "牵头部门": "lead", "责任单位": "units", "责任部门": "units",
               "主责单位": "units", "配合单位": "partners", "协办单位": "partners",
               "配合部门": "partners"}


def _fields(content: str) -> dict[str, str]:
    """"牵头单位:A,责任单位:B、C,完成时限:全年" -> {"lead": "A", "units": "B、C", ...}."""
    out: dict[str, str] = {}
    marks = list(_FIELD.finditer(content))
    for k, m in enumerate(marks):
        end = marks[k + 1].start() if k + 1 < len(marks) else len(content)
        value = content[m.end():end].strip(" \t,，;；、。")
        out.setdefault(_FIELD_KIND.get(m.group(1), "deadline"), value)
    return out


@dataclass
class _Item:
    kind: str
    text: str
    category: str
    line: int
    paren: re.Match[str] | None = None


def tasks_from_body(lines: list[tuple[int, str]], *, file: str = "") -> TaskTable | None:
    """Tasks from numbered body text: (line number, text) pairs; None when there are none.

    `一、` headings (or a finer `（一）` heading below one) name the category; numbered
    items (`1.` `1．` `1、` `（1）`, or `（一）` carrying units) are tasks; a parenthesis at
    an item's end gives 责任单位 and, when present, 牵头单位, 配合单位 and 完成时限. Only
    the numbering kinds that carry a units parenthesis somewhere are tasks, so `1.`
    points above `（1）` tasks become neither. A line that is no heading or item
    continues an item whose parenthesis has not appeared yet.
    """
    items: list[_Item] = []
    category = ""
    open_item: _Item | None = None
    preamble: list[str] = []  # lines above the first heading or item: the title is there
    for n, raw in lines:
        line = clean(raw)
        if not line or PAGE_NUMBER.match(line):
            continue
        if not items and not category:
            preamble.append(line)
        kind = next((k for k, rx in ITEM_KINDS.items() if rx.match(line)), None)
        if kind == "subhead" and not UNITS_PAREN.search(line):
            category = category_name(_SUBHEAD.sub(r"\1", line)).rstrip("。.;；:：")
            open_item = None
            continue
        if kind is None and HEADING.match(line):
            category = category_name(line).rstrip("。.;；:：")
            open_item = None
            continue
        if kind is not None:
            open_item = _Item(kind, ITEM_KINDS[kind].sub(r"\1", line), category, n)
            items.append(open_item)
        elif open_item is not None and open_item.paren is None and not line.startswith("附件"):
            open_item.text += line  # a wrapped line of the same item
        else:
            open_item = None
            continue
        open_item.paren = UNITS_PAREN.search(open_item.text)
    task_kinds = {i.kind for i in items if i.paren}
    if not task_kinds:
        return None
    tasks: list[RawTask] = []
    undated = 0
    for item in (i for i in items if i.kind in task_kinds):
        text, fields = item.text, {}
        if item.paren:
            text, fields = item.text[:item.paren.start()].rstrip(), _fields(item.paren.group(1))
        if not fields.get("deadline"):
            undated += 1
        units = join_units(fields.get("lead", ""), fields.get("units", ""),
                           fields.get("partners", ""))
        tasks.append(RawTask(len(tasks) + 1, item.category, clean_text(text), units,
                             fields.get("deadline") or "全年", item.line))
    problems = ([problem("plan-no-deadline-text", file=file, count=undated)] if undated else [])
    return TaskTable(table_title(preamble[:-1]), tuple(tasks), tuple(problems))



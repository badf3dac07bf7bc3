"""The reminder notice (催报通知): who has not reported, who must correct what, who gets a
督办 reminder; the context of templates/notice.md.j2 (also written by `check`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from operator import attrgetter
from pathlib import Path, PurePosixPath
from typing import Any

from gkreport.core.model import SubmissionState, group
from gkreport.core.problems import Problem
from gkreport.core.report import Report, UnitResult
from gkreport.ledger import RED_CARD, RED_CARD_LATE, YELLOW_CARD_RETURNED
from gkreport.render.wording import cn_date, cn_number, plain_text

MAX_NOTICE_PROBLEMS = 5  # per unit; the annotated file carries every one
NOTICE_CHARS = 200  # a quoted cell in the notice is clipped here, with its length said


@dataclass(frozen=True, slots=True)
class Notice:
    """What the notice says beyond the Report: who sends it, when, and the year's 督办 flags."""

    sender: str = ""
    contact: str = ""  # “区政府办公室 张三 57xxxxxx”
    issued: date | None = None  # the date of issue (today, when sent)
    cards: dict[str, tuple[str, str]] = field(default_factory=dict)  # unit -> (红牌/黄牌, why)


def _clip(text: str) -> str:
    return text if len(text) <= NOTICE_CHARS else (
        f"{text[:NOTICE_CHARS]}……（共 {len(text)} 字）")


def _problem_line(p: Problem) -> str:
    """“填报表 D7：message。fix。” — the unit knows its own file, so the sheet and cell suffice."""
    where = " ".join(x for x in (p.sheet, p.cell) if x) or p.location()
    text = (_clip(plain_text(p.message)).rstrip("。") + "。"
            + (plain_text(p.fix).rstrip("。") + "。" if p.fix else ""))
    return f"{plain_text(where)}：{text}" if where else text


def _missing(u: UnitResult, cards: Mapping[str, tuple[str, str]]) -> dict[str, Any]:
    return {"name": u.unit.name, "kind": u.unit.kind.value,
            "contact": plain_text(u.unit.contact) or "名录未登记",
            "phone": plain_text(u.unit.phone) or "名录未登记", "card": cards.get(u.unit.name)}


def _copy_note(annotated: Mapping[str, Path], unit: str) -> str:
    """What the unit's returned copy lacks (values only, macros left out, not marked), said
    to the unit: without the office's hint to use the check report."""
    from gkreport.render.annotate import OFFICE_HINT

    return plain_text(getattr(annotated, "notes", {}).get(unit, "").removesuffix(OFFICE_HINT))


def _to_fix(u: UnitResult, errors: Sequence[Problem], annotated: Mapping[str, Path],
            cards: Mapping[str, tuple[str, str]]) -> dict[str, Any]:
    # The errors of the file the count is about (the accepted form), as consolidate counts
    # them: a refused older form's problems are not listed here. Only those shown are worded.
    problems = [_problem_line(p) for p in islice(
        (p for p in errors if not p.file or p.file == u.file), MAX_NOTICE_PROBLEMS)]
    path = annotated.get(u.unit.name)
    # By its name only: the office forwards the file; its folder means nothing to the unit.
    returned = path.name if path else PurePosixPath(u.file).name
    return {"name": u.unit.name, "errors": u.errors, "warnings": u.warnings,
            "file": plain_text(PurePosixPath(u.file).name), "returned": plain_text(returned),
            # Comments to point the unit to: a copy made, and marked (not the file as it came).
            "annotated": bool(path) and u.unit.name not in getattr(annotated, "unmarked", ()),
            "problems": problems,
            "note": _copy_note(annotated, u.unit.name),
            "more": max(u.errors - len(problems), 0),
            "card": cards.get(u.unit.name)}


def unit_lists(report: Report, annotated: Mapping[str, Path], notice: Notice | None = None,
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(units not reported, units whose forms must be corrected), in registry order."""
    cards = notice.cards if notice else {}
    missing = [_missing(u, cards) for u in report.units if u.state is SubmissionState.MISSING]
    errors = group((p for p in report.problems if p.is_error), attrgetter("unit"))
    fix = [_to_fix(u, errors.get(u.unit.name, ()), annotated, cards) for u in report.units
           if u.state is SubmissionState.NEEDS_FIX]
    return missing, fix


def notice_context(report: Report, notice: Notice | None,
                   annotated: Mapping[str, Path]) -> dict[str, Any]:
    """The notice's own keys: sender, contact, issued, due, after_due, days_late, missing,
    fix, new_tasks (units whose form of an earlier plan lacks tasks added since), cards."""
    notice = notice or Notice()
    missing, fix = unit_lists(report, annotated, notice)
    issued, due = notice.issued, report.due
    days_late = (issued - due).days if issued and due and issued > due else 0
    new_tasks = [{"name": u.unit.name, "nos": "、".join(map(str, u.new_tasks))}
                 for u in report.units if u.new_tasks]
    flagged = [{"name": name, "card": card, "why": why,
                "red": card == RED_CARD} for name, (card, why) in notice.cards.items()]
    cards = sorted(flagged, key=lambda c: (not c["red"], c["name"]))
    # Sections with somebody in them, numbered in order (a section of nobody is left out).
    parts = [(kind, title) for kind, title, items in (
        ("missing", f"未报送单位（{len(missing)}家）", missing),
        ("fix", f"需修改后重新报送的单位（{len(fix)}家）", fix),
        ("new_tasks", f"需补报新增任务的单位（{len(new_tasks)}家）", new_tasks),
        ("cards", f"督办提醒（{len(cards)}家）", cards)) if items]
    sections = [{"kind": kind, "title": f"{cn_number(i)}、{title}"}
                for i, (kind, title) in enumerate(parts, start=1)]
    return {
        "sections": sections,
        "sender": plain_text(notice.sender), "contact": plain_text(notice.contact),
        "issued": cn_date(issued) if issued else "", "due": cn_date(due) if due else "",
        "after_due": days_late > 0, "days_late": days_late,
        "missing": missing, "fix": fix, "new_tasks": new_tasks,
        "cards": cards,
        "card_rule": (f"红牌：本年度逾期报送{RED_CARD_LATE}期及以上；"
                      f"黄牌：本年度被退回修改{YELLOW_CARD_RETURNED}期及以上"),
    }

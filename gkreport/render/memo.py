"""The leaders' memo (简报 .md/.html/.docx) and the reminder notice, rendered from one context.

Every figure comes from the Report's `summary` or its other dataclasses and is
formatted here: templates only arrange ready-made strings and numbers. The
Word layout (GB/T 9704) is in `memodocx`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from gkreport.consolidate import NEAR_DEADLINE_DAYS, substantive_issue
from gkreport.core.model import (
    COLOUR_HEX,
    OVERDUE,
    REPORTABLE,
    STATUS_HEX,
    Colour,
    Entry,
    Period,
    Status,
)
from gkreport.core.report import Report, Summary, TaskResult
from gkreport.core.xlsx import atomic_path, write_text_atomic
from gkreport.render.memodocx import docx_bytes
from gkreport.render.notice import Notice, notice_context
from gkreport.render.templating import render_template, template_env
from gkreport.render.wording import (
    cn_date,
    cn_number,
    deadline_words,
    excerpt,
    fit,
    pct,
    plain_text,
    quoted,
    short_task,
    units_list,
    units_short,
    units_text,
)
from gkreport.render.workbook import SHEET_ISSUES, SHEET_OVERDUE

MEMO_TEMPLATES = ("memo.md.j2", "memo.html.j2")
NOTICE_TEMPLATE = "notice.md.j2"
# Chart rows beyond the statuses: 临期 (blue) and 待核实 (yellow), as in the workbook.
NEAR_LABEL = f"{NEAR_DEADLINE_DAYS}日内到期"
# The memo's body is at most two A4 pages (README "简报": a one-to-two page memo): each list is
# capped and the rest counted, with the workbook sheet that holds them all.
MAX_QUOTES = 2  # highlight quotes
MAX_NEWLY_LISTED = 3  # newly completed tasks named with their text; all are numbered
MAX_ISSUES = 2  # problems quoted besides the late tasks' reasons
MAX_REASONS = 2
MAX_DELAY_ROWS = 3  # late tasks in the memo's table, overdue first
# Late-task table cells: two lines of memodocx.DELAY_COLS' columns (12 and 18 characters; the
# reason one short: Chinese line breaking may push a closing mark to the next line)
TABLE_TASK_CHARS, TABLE_UNITS_CHARS, TABLE_REASON_CHARS = 24, 10, 35
MAX_QUOTE_CHARS = 44
MAX_ISSUE_CHARS = 40
MAX_UNITS_INLINE = 10  # more missing and to-correct units than this go to an 附件 page
SUBSTANTIVE_CHARS = 12  # shorter progress notes ("已完成。") say nothing worth quoting


def _nos(rows: list[TaskResult]) -> str:
    return "、".join(str(t.task.no) for t in rows)


def _overview(report: Report, s: Summary) -> dict[str, Any]:
    tasks, units = s.tasks, s.units
    total = tasks.total
    statuses = [{"label": st.value, "count": tasks.by_status[st],
                 "pct": pct(tasks.by_status[st], total), "fill": STATUS_HEX[st]}
                for st in REPORTABLE]
    overdue = tasks.overdue

    def part(x: dict[str, Any]) -> str:
        # 逾期 is part of 滞后 (consolidate's task rule), so it is said inside it
        inner = f"（其中逾期{overdue}项）" if x["label"] == Status.BEHIND.value and overdue else ""
        return f"{x['label']}{x['count']}项{inner}"

    near = len(s.near_deadline)
    unverified, unverified_reports = s.unverified_tasks, s.unverified_reports
    sentence = (f"全年共{total}项任务，截至{report.period.month}月底，"
                + "，".join(part(x) for x in statuses)
                + f"，完成率{pct(tasks.by_status[Status.DONE], total)}。")
    if near:
        sentence += f"另有{near}项任务将于{NEAR_DEADLINE_DAYS}日内到期。"
    if unverified:
        sentence += f"{unverified}项任务有{unverified_reports}条填报待核实。"
    if s.rows.carried:
        # the figures above count them (README: 沿用上期): say so, or they would
        # read as this month's reports
        sentence += f"以上含未报送单位沿用上期的填报{s.rows.carried}条。"
    expected, submitted = units.expected, units.submitted
    on_time, late = len(units.on_time), len(units.late)
    u = {"expected": expected, "submitted": submitted, "submitted_pct": pct(submitted, expected),
         "missing": len(units.missing), "needs_fix": len(units.needs_fix),
         "on_time": on_time, "late": late}
    p = s.problems
    # On time or late, when the ledger says it of every unit that submitted.
    timely = (f"（按时{on_time}家、逾期{late}家）"
              if submitted and on_time + late == submitted else "")
    units_sentence = (f"本期应报送单位{expected}家，已报送{submitted}家{timely}、"
                      f"未报送{u['missing']}家，报送率{u['submitted_pct']}；"
                      f"校验发现错误{p.errors}处、警告{p.warnings}处，需退回修改{u['needs_fix']}家。")
    return {"total": total, "statuses": statuses, "overdue": overdue,
            "overdue_pct": pct(overdue, total), "near": near,
            "near_pct": pct(near, total), "unverified": unverified,
            "unverified_pct": pct(unverified, total), "unverified_reports": unverified_reports,
            "sentence": sentence, "units": u, "units_sentence": units_sentence}


def _chart(overview: dict[str, Any]) -> dict[str, Any]:
    """Horizontal bar geometry for the HTML's inline SVG (computed here: templates do no maths)."""
    label_w, bar_max, row_h, bar_h = 96, 330, 30, 18
    rows = [*overview["statuses"],
            {"label": OVERDUE, "count": overview["overdue"], "pct": overview["overdue_pct"],
             "fill": STATUS_HEX[OVERDUE]},
            {"label": NEAR_LABEL, "count": overview["near"], "pct": overview["near_pct"],
             "fill": COLOUR_HEX[Colour.BLUE]},
            {"label": Status.UNVERIFIED.value, "count": overview["unverified"],
             "pct": overview["unverified_pct"], "fill": STATUS_HEX[Status.UNVERIFIED]}]
    total = overview["total"]
    bars = []
    for i, r in enumerate(rows):
        w = round(r["count"] * bar_max / total, 1) if total else 0.0
        y = 8 + i * row_h
        bars.append({**r, "x": label_w, "y": y, "w": w, "h": bar_h, "text_y": y + 14,
                     "value_x": round(label_w + w + 6, 1), "label_x": label_w - 8})
    return {"width": label_w + bar_max + 120, "height": 16 + len(rows) * row_h, "bars": bars,
            "axis_x": label_w, "axis_y2": 8 + len(rows) * row_h}


def _categories(s: Summary) -> list[dict[str, Any]]:
    out = []
    for i, cat in enumerate(s.tasks.by_category, start=1):
        name, total, n = cat.name, cat.total, cat.by_status
        done, on, behind, nots = (n[x] for x in REPORTABLE)
        sentence = (f"该类共{total}项任务，已完成{done}项，"
                    f"按计划推进{on}项，滞后{behind}项，"
                    f"未启动{nots}项，逾期{cat.overdue}项，"
                    f"完成率{pct(done, total)}。")
        out.append({"no": i, "no_cn": cn_number(i), "name": name, "total": total,
                    "done": done, "on_track": on, "behind": behind, "not_started": nots,
                    "overdue": cat.overdue, "done_pct": pct(done, total),
                    "sentence": sentence})
    return out


def _categories_sentence(cats: list[dict[str, Any]]) -> str:
    """Which category leads and which lags, for the paragraph under the table."""
    if not cats:
        return ""
    best = max(cats, key=lambda c: (c["done"] / c["total"] if c["total"] else 0, -c["no"]))
    worst = max(cats, key=lambda c: (c["behind"], -c["no"]))
    parts = []
    if best["done"]:
        parts.append(f"“{best['name']}”完成率最高（{best['done_pct']}）")
    if worst["behind"]:
        who = "该类" if parts and worst is best else f"“{worst['name']}”"
        parts.append(f"{who}滞后任务最多（{worst['behind']}项，其中逾期{worst['overdue']}项）")
    return "；".join(parts) + "。" if parts else ""


def _highlights(report: Report) -> dict[str, Any]:
    newly = [t for t in report.tasks if t.status is Status.DONE and t.previous_status is not None
             and t.previous_status is not Status.DONE]
    newly_done = [{"no": t.task.no, "text": fit(short_task(t), 24),
                   "units": units_short(units_text(t.task.units_text), 16)}
                  for t in newly[:MAX_NEWLY_LISTED]]
    # Notes that report done work first, then those with figures (场, 条, 人次); among them
    # the longest that fits whole, else the shortest cut: one quote per unit and per task.
    def rank(e: Entry) -> tuple[Any, ...]:
        n = len(plain_text(e.note))
        return (e.status is not Status.DONE, not re.search(r"\d", e.note), n > MAX_QUOTE_CHARS,
                -n if n <= MAX_QUOTE_CHARS else n, e.task_no, e.unit)

    ranked = sorted((e for e in report.entries if e.status in (Status.DONE, Status.ON_TRACK)
                     and len(plain_text(e.note)) >= SUBSTANTIVE_CHARS), key=rank)
    quotes: list[dict[str, Any]] = []
    units, tasks = set(), set()
    for e in ranked:
        if e.unit in units or e.task_no in tasks:
            continue
        units.add(e.unit)
        tasks.add(e.task_no)
        text = excerpt(e.note, MAX_QUOTE_CHARS)
        quotes.append({"unit": e.unit, "task_no": e.task_no, "status": e.status.value,
                       "text": text, "line": f"{e.unit}“{quoted(text)}”（序号{e.task_no}）"})
        if len(quotes) == MAX_QUOTES:
            break
    if newly:
        sentence = f"本月新增完成任务{len(newly)}项（序号{_nos(newly)}）。"
    elif report.previous_period:
        sentence = "本月无新增完成的任务。"
    else:
        sentence = ""
    quotes_intro = "较有代表性的进展有：" if quotes else ""
    quotes_text = "；".join(q["line"] for q in quotes) + "。" if quotes else ""
    if not (sentence or quotes):
        sentence = "本期暂无已完成或有实质进展的事项可供总结。"
    return {"newly_done": newly_done, "newly_total": len(newly), "quotes": quotes,
            "sentence": sentence, "quotes_intro": quotes_intro, "quotes_text": quotes_text}


def _reasons(entries: tuple[Entry, ...]) -> list[tuple[str, str]]:
    """(unit, 存在问题) of a late task's units not done: the workbook 逾期滞后 sheet's 原因."""
    return [(e.unit, e.issues) for e in entries
            if substantive_issue(e.issues) and e.status is not Status.DONE]


def _who(groups: dict[str, tuple[str, ...]]) -> tuple[str, int]:
    """“佘山镇等4家（滞后3家、未报送1家）” and the number of units it names."""
    names = [u for us in groups.values() for u in us]
    if not names:
        return "", 0
    kinds = [f"{label}{len(us)}家" for label, us in groups.items() if us]
    who = names[0] + (f"等{len(names)}家" if len(names) > 1 else "")
    if len(names) > 1 or len(kinds) > 1 or Status.MISSING.value in (k[:3] for k in kinds):
        who += f"（{'、'.join(kinds)}）"
    return who, len(names)


def _late_label(t: TaskResult, period: Period) -> str:
    """到期未完成 in the month a deadline falls in; 逾期 after; 滞后 when only behind."""
    d = t.task.deadline.date
    if not t.overdue:
        return Status.BEHIND.value
    return "到期未完成" if d and (d.year, d.month) == (period.year, period.month) else OVERDUE


def _delays(report: Report) -> list[dict[str, Any]]:
    """Every overdue or behind task, with the units it waits on; `in_table` marks the few
    the memo's table shows (overdue first, then those with most units behind)."""
    out: list[dict[str, Any]] = []
    late = [t for t in report.tasks if t.overdue or t.status is Status.BEHIND]
    ranked = sorted(late, key=lambda t: (not t.overdue, -t.behind, -t.missing, t.task.no))
    shown = {t.task.no for t in ranked[:MAX_DELAY_ROWS]}
    for t in late:
        entries = report.entries_of_task.get(t.task.no, ())
        groups = t.late_units()
        who, named = _who(groups)
        given = _reasons(entries)
        reasons = [{"unit": u, "text": excerpt(x, MAX_ISSUE_CHARS)} for u, x in given[:MAX_REASONS]]
        reason = (fit(given[0][1], max(TABLE_REASON_CHARS - len(who) - 1, 10)) if given
                  else "未说明原因")
        units = units_text(t.task.units_text)
        out.append({"no": t.task.no, "text": fit(short_task(t), TABLE_TASK_CHARS),
                    "units": units, "units_short": units_short(units, TABLE_UNITS_CHARS),
                    "deadline": deadline_words(t), "deadline_text": plain_text(t.task.deadline.text),
                    "overdue": t.overdue, "label": _late_label(t, report.period),
                    "status": t.status.value,
                    "fill": STATUS_HEX[OVERDUE] if t.overdue else STATUS_HEX[Status.BEHIND],
                    "who": who, "named": named,
                    "groups": {k: "、".join(v) for k, v in groups.items() if v},
                    "counts": (f"应报{t.expected}家：已完成{t.done}家，滞后{t.behind}家，"
                               f"其他未完成{t.reported - t.done - t.behind}家，"
                               f"未报送{t.missing}家"),
                    "missing_units": units_list(t.missing_units),
                    "reasons": reasons, "reasons_count": len(given),
                    "reason_short": f"{who or units_short(units, TABLE_UNITS_CHARS)}：{reason}",
                    "reason_source": plain_text(given[0][1]) if given else "",
                    "in_table": t.task.no in shown,
                    "reasons_text": "；".join(f"{r['unit']}：“{r['text']}”" for r in reasons)
                    or "责任单位未说明原因"})
    # the table: overdue first, each group in plan order
    out.sort(key=lambda d: (not d["overdue"], d["no"]))
    return out


def _reverted(report: Report) -> dict[str, Any]:
    """Tasks a unit had reported 已完成 and now reports not done (status-reverted)."""
    rows = [{"no": t.task.no, "units": "、".join(f"{u}（{p.month}月已报完成）"
                                                 for u, p in t.reverted)}
            for t in report.tasks if t.reverted]
    sentence = ("此前已报完成、本期改报未完成的任务有" + f"{len(rows)}项（"
                + "；".join(f"序号{r['no']}：{r['units']}" for r in rows) + "），请相关单位说明情况。"
                ) if rows else ""
    return {"tasks": rows, "sentence": sentence}


def _delays_more(delays: list[dict[str, Any]]) -> str:
    """The late tasks the memo's table leaves out, counted and numbered."""
    rest = [d for d in delays if not d["in_table"]]
    if not rest:
        return ""
    overdue = sum(d["overdue"] for d in rest)
    parts = [f"逾期{overdue}项" if overdue else "", f"滞后{len(rest) - overdue}项"
             if len(rest) > overdue else ""]
    return (f"另有{'、'.join(x for x in parts if x)}（序号{'、'.join(str(d['no']) for d in rest)}），"
            f"见汇总表“{SHEET_OVERDUE}”。")


def _issues(report: Report, s: Summary, delays: list[dict[str, Any]]) -> dict[str, Any]:
    # the same rule as the workbook's 问题与建议 sheet: one row there per entry here
    raised = [e for e in report.entries if substantive_issue(e.issues)]
    items: list[dict[str, Any]] = []
    # Quote a problem once: the late-task table already shows each of its tasks' first reason.
    seen = {d["reason_source"] for d in delays if d["in_table"]}
    units: set[str] = set()
    for e in sorted(raised, key=lambda e: (-len(plain_text(e.issues)), e.task_no, e.unit)):
        text = plain_text(e.issues)
        if text in seen or e.unit in units:  # one quote per unit
            continue
        seen.add(text)
        units.add(e.unit)
        text = excerpt(e.issues, MAX_ISSUE_CHARS)
        items.append({"unit": e.unit, "task_no": e.task_no, "text": text,
                      "line": f"{e.unit}（序号{e.task_no}）“{quoted(text)}”"})
        if len(items) == MAX_ISSUES:
            break
    items.sort(key=lambda i: (i["task_no"], i["unit"]))
    sentence = ("本期各单位未反映需要协调的问题。" if not raised
                else f"共有{len({e.unit for e in raised})}家单位反映问题{len(raised)}条，" + (
                    "除上述滞后原因外，主要有：" if items else "主要为上述滞后原因。"))
    quality = (f"填报质量方面，本期校验发现错误{s.problems.errors}处、警告{s.problems.warnings}处，"
               f"{len(s.units.needs_fix)}家单位的填报表需退回修改；"
               f"{len(s.units.missing)}家单位未按时报送。")
    more = f"全部问题见汇总表“{SHEET_ISSUES}”。" if raised else ""
    points_text = "；".join(i["line"] for i in items) + "。" if items else ""
    return {"sentence": sentence, "points": items, "points_text": points_text,
            "quality": quality, "more": more}


def _suggestions(report: Report, s: Summary, annex: bool) -> list[dict[str, str]]:
    overdue = [t for t in report.tasks if t.overdue]
    behind = [t for t in report.tasks if t.status is Status.BEHIND and not t.overdue]
    # 临期 is the workbook's blue: consolidate's one near-deadline rule
    upcoming = [t for t in report.tasks if t.colour is Colour.BLUE]
    missing, needs_fix = s.units.missing, s.units.needs_fix
    out = []
    if overdue:
        out.append(f"对逾期任务（序号{_nos(overdue)}）发函督办，明确完成时限。")
    if behind:
        out.append(f"对滞后任务（序号{_nos(behind)}）跟踪督促，加快推进。")
    if upcoming:
        when = "、".join(f"序号{t.task.no}（{cn_date(t.task.deadline.date)}）" for t in upcoming
                        if t.task.deadline.date)
        out.append(f"{len(upcoming)}项任务将于{NEAR_DEADLINE_DAYS}日内到期（{when}），请责任单位"
                   "抓紧推进，确保按期完成。")

    def named(names: tuple[str, ...]) -> str:
        return "" if annex else f"（{'、'.join(names)}）"

    units = []
    if missing:
        units.append(f"提醒未报送的{len(missing)}家单位{named(missing)}尽快补报")
    if needs_fix:
        units.append(f"退回{len(needs_fix)}家单位{named(needs_fix)}的填报表，请其修改后重新报送")
    if units:
        out.append("；".join(units) + ("（名单见附件）。" if annex else "。"))
    if len(out) < 2:  # nothing to chase: the standing instruction
        out.append("持续做好月度调度，按月汇总通报各项任务推进情况，确保全年任务按期完成。")
    return [{"no_cn": cn_number(i), "text": text} for i, text in enumerate(out, start=1)]


def _mom(report: Report) -> dict[str, Any] | None:
    if not report.previous_period:
        return None
    prev = [t for t in report.tasks if t.previous_status is not None]
    newly_done = [t for t in prev if t.status is Status.DONE and t.previous_status is not Status.DONE]
    newly_behind = [t for t in prev if t.status is Status.BEHIND
                    and t.previous_status is not Status.BEHIND]
    recovered = [t for t in prev if t.previous_status is Status.BEHIND
                 and t.status in (Status.DONE, Status.ON_TRACK)]
    done_before = sum(t.previous_status is Status.DONE for t in prev)
    done_now = sum(t.status is Status.DONE for t in report.tasks)
    label = report.previous_period.label
    # an older period (a month skipped, or of another plan version) is 上期, not 上月
    since = f"与{report.previous_label()}相比"
    # the changes there were (a change of none is left out, as the notice leaves out a
    # list of none); the count of done tasks when it moved
    changes = [f"{label}{n}项" for label, n in (
        ("新增完成", len(newly_done)), ("新增滞后", len(newly_behind)),
        ("滞后转为正常或完成", len(recovered))) if n]
    sentences = [f"{since}，" + ("，".join(changes) or "各项任务状态没有变化")
                 + (f"；已完成任务由{done_before}项变为{done_now}项。" if done_before != done_now
                    else "。")]
    added = [t for t in report.tasks if t.new]  # the plan was changed since 上期
    if added:
        sentences.append(f"本期起按调整后的计划汇总，新增任务{len(added)}项（序号{_nos(added)}）。")
    return {"previous_period": str(report.previous_period), "previous_label": label,
            "newly_done": len(newly_done), "newly_behind": len(newly_behind),
            "recovered": len(recovered), "done_before": done_before, "done_now": done_now,
            "sentences": sentences}


def memo_context(report: Report, *, annotated: Mapping[str, Path] | None = None,
                 notice: Notice | None = None) -> dict[str, Any]:
    """Everything the memo and notice templates show, as plain, ready-formatted data.

    Keys: title, plan_title, period, period_label, period_end, intro, overview (statuses,
    units, sentences), chart (SVG geometry), mom (None without a previous period),
    categories, categories_sentence, highlights, delays (every late task), delay_rows (the
    few the memo's table shows), delays_more, delays_sentence, issues, suggestions,
    missing_units, fix_units, missing_line, fix_line, annex (too many units to name in the
    body: their lists go to an 附件 page), annex_title, annex_lines, summary, notice (the
    notice's own keys, see `notice_context`), reverted (completions taken back).
    `annotated` maps a unit to its 退回修改/ copy, named in the notice.
    """
    s = report.summary
    overview = _overview(report, s)
    note = notice_context(report, notice, annotated or {})
    missing, fix = note["missing"], note["fix"]
    reverted = _reverted(report)
    annex = len(missing) + len(fix) > MAX_UNITS_INLINE
    plan_title = report.plan.title
    delays = _delays(report)
    delays_more = _delays_more(delays)
    cats = _categories(s)
    missing_line = (f"未报送单位（{len(missing)}家）："
                    + ("、".join(u["name"] for u in missing) or "无") + "。")
    fix_line = (f"需修改单位（{len(fix)}家）："
                + ("、".join(f"{u['name']}（错误{u['errors']}处）" for u in fix) or "无") + "。")
    return {
        "title": f"{plan_title}推进情况（截至{report.period.label}）",
        "plan_title": plan_title,
        "period": str(report.period),
        "period_label": report.period.label,
        "period_end": cn_date(report.period.end),
        "intro": f"现将截至{report.period.label}底《{plan_title}》各项任务推进情况报告如下。",
        "overview": overview,
        "chart": _chart(overview),
        "overdue_fill": STATUS_HEX[OVERDUE],
        "mom": _mom(report),
        "categories": cats,
        "categories_sentence": _categories_sentence(cats),
        "highlights": _highlights(report),
        "delays": delays,
        "delay_rows": [d for d in delays if d["in_table"]],
        "delays_more": delays_more,
        # the counts, the completions taken back, then what introduces the table below
        "delays_sentence": (f"本期逾期{overview['overdue']}项、滞后（未逾期）"
                            f"{len(delays) - overview['overdue']}项。" + reverted["sentence"]
                            + ("主要情况如下：" if delays_more else "具体如下：") if delays
                            else "本期无逾期或滞后事项。" + reverted["sentence"]),
        "issues": _issues(report, s, delays),
        "suggestions": _suggestions(report, s, annex),
        "missing_units": missing,
        "fix_units": fix,
        "missing_line": missing_line,
        "fix_line": fix_line,
        # the 附件's lists (a list of none is left out); a few units are named in the body
        "annex_lines": [line for line, n in ((missing_line, missing), (fix_line, fix))
                       if n and annex],
        "annex": annex,
        "annex_title": "未报送单位和需修改单位名单",
        "summary": s.to_json(),
        "notice": note,
        "reverted": reverted,
    }


# --- rendering -----------------------------------------------------------------------------


def memo_paths(report: Report, out_dir: Path) -> tuple[Path, Path, Path]:
    """简报_PERIOD.md, .html and .docx in out_dir."""
    stem = out_dir / f"简报_{report.period}"
    return stem.with_suffix(".md"), stem.with_suffix(".html"), stem.with_suffix(".docx")


def notice_path(report: Report, out_dir: Path) -> Path:
    """催报通知_PERIOD.md in out_dir."""
    return out_dir / f"催报通知_{report.period}.md"


def _created(report: Report) -> datetime:
    end = report.period.end
    return datetime(end.year, end.month, end.day)


def render_outputs(report: Report, out_dir: Path,
                   names: tuple[str, ...] = (*MEMO_TEMPLATES, "docx", NOTICE_TEMPLATE), *,
                   templates: Path | None = None, annotated: Mapping[str, Path] | None = None,
                   notice: Notice | None = None) -> dict[Path, str | bytes]:
    """Path -> content of each output (templates by name, "docx"), rendered in memory only.

    Raises GkreportError (template-error) for a broken template; nothing is written, so a
    caller can render first, then write its other outputs and `write_outputs(...)`.
    """
    ctx = memo_context(report, annotated=annotated, notice=notice)
    env = template_env(templates)
    md, html, docx = memo_paths(report, out_dir)
    where = {"memo.md.j2": md, "memo.html.j2": html, NOTICE_TEMPLATE: notice_path(report, out_dir)}
    out: dict[Path, str | bytes] = {}
    for name in names:
        if name == "docx":
            out[docx] = docx_bytes(ctx, created=_created(report))
        else:
            out[where[name]] = render_template(env, name, ctx)
    return out


def write_outputs(contents: Mapping[Path, str | bytes]) -> list[Path]:
    """Write rendered outputs atomically, in order; return their paths."""
    for path, content in contents.items():
        if isinstance(content, bytes):
            with atomic_path(path) as tmp:
                tmp.write_bytes(content)
        else:
            write_text_atomic(path, content)
    return list(contents)


def render_all(report: Report, out_dir: Path, *, templates: Path | None = None,
               annotated: Mapping[str, Path] | None = None,
               notice: Notice | None = None) -> list[Path]:
    """Write the memo (.md, .html, .docx) and the notice; return [md, html, docx, notice].

    Everything is rendered in memory first: a broken template raises GkreportError
    (template-error, naming the file and line) before any file is written or replaced.
    """
    return write_outputs(render_outputs(report, out_dir, templates=templates,
                                        annotated=annotated, notice=notice))

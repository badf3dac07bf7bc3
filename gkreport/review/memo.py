"""The review's memo (年度总结_<range> .md/.html/.docx), rendered from one context.

Every figure comes from the Review (its tasks, units, periods and `totals`) and is formatted
here; the templates (review.md.j2, review.html.j2, overridable in the workspace's
templates/) only arrange ready-made strings, and the Word document (`review.memodocx`) lays
out the same strings in the monthly memo's GB/T 9704 layout.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from gkreport.consolidate import substantive_issue
from gkreport.core.model import OVERDUE, STATUS_HEX, Status
from gkreport.ledger import RED_CARD, RED_CARD_LATE, YELLOW_CARD_RETURNED, cards
from gkreport.render.templating import render_template, template_env
from gkreport.render.wording import (
    MAX_UNITS_LISTED,
    cn_date,
    cn_number,
    excerpt,
    fit,
    pct,
    plain_text,
    units_list,
)
from gkreport.review.model import OpenUnit, PlanVersion, Review, TaskYear, UnitYear
from gkreport.review.svg import trend_chart
from gkreport.review.workbook import SHEET_TASKS, SHEET_UNITS

REVIEW_TEMPLATES = ("review.md.j2", "review.html.j2")
MAX_FINISHED_ROWS = 12  # finished tasks in the memo's table; the rest are numbered
MAX_OPEN_ROWS = 8  # unfinished tasks in its table, overdue first
MAX_UNIT_ROWS = 10  # units in its table: all of them, or the last ones by rank
MAX_LOW = 3  # units named as ranking last
MAX_NOS = 12  # task numbers listed in a suggestion before "等"
TASK_CHARS, REASON_CHARS = 24, 40  # two lines of the Word tables' columns


def memo_stem(review: Review) -> str:
    return f"年度总结_{review.span.label}"


def _nos(tasks: Iterable[TaskYear], limit: int | None = None) -> str:
    """Task numbers, the first `limit` of them and 等 when there are more."""
    nos = [_no(t) for t in tasks]
    if limit is None or len(nos) <= limit:
        return "、".join(nos)
    return "、".join(nos[:limit]) + "等"


def _no(t: TaskYear) -> str:
    """Its number now, or 原N for a task removed from the plan."""
    return str(t.no) if t.no is not None else f"原{t.last_no}"


def _version_change(v: PlanVersion) -> str:
    """（新增任务1项、取消2项）, what there was of it; the tasks' units or deadlines else."""
    parts = [f"{w}{n}项" for w, n in (("新增任务", v.added), ("取消", v.removed)) if n]
    return f"（{'、'.join(parts)}）" if parts else "（调整了任务的责任单位、时间节点等）"


def _text(t: TaskYear, width: int = TASK_CHARS) -> str:
    return fit(t.text.rstrip("。；;，, \n"), width)


def _overview(review: Review) -> dict[str, Any]:
    t = review.totals
    n = t.tasks
    statuses = [{"label": s.value, "count": c, "pct": pct(c, n), "fill": STATUS_HEX[s]}
                for s, c in t.by_status.items()]

    def part(x: dict[str, Any]) -> str:
        inner = f"（其中逾期{t.overdue}项）" if x["label"] == Status.BEHIND.value and t.overdue \
            else ""
        return f"{x['label']}{x['count']}项{inner}"

    span = review.span
    sentence = (f"{span.words}{review.coverage}。截至{review.last.label}，共有任务{n}项："
                + "、".join(part(x) for x in statuses) + f"，完成率{pct(t.done, n)}。")
    done_words = [f"本时段内完成{t.done_in_span}项"]
    if t.done_before:
        done_words.append(f"此前已完成{t.done_before}项")
    done_words.append(f"按期完成{t.done_on_time}项")
    sentence += "，".join(done_words) + "。"
    if t.reverted:
        back = [x for x in review.final_tasks if x.reverted]
        sentence += f"另有{t.reverted}项任务曾报完成、时段末未完成（序号{_nos(back)}）。"
    versions = review.versions
    if len(versions) > 1:
        changes = "；".join(
            f"{v.first.month}月起按调整后的计划汇总" + _version_change(v) for v in versions[1:])
        versions_sentence = f"本时段计划调整{len(versions) - 1}次：{changes}。"
    else:
        versions_sentence = ""
    units_sentence = (
        f"{t.units}家单位共应报送{t.expected}期次，已报送{t.submitted}期次，其中按时{t.on_time}期次、"
        f"逾期{t.late}期次，未报送{t.missing}期次，按时报送率{pct(t.on_time, t.expected)}；"
        f"退回修改{t.returned}轮，一次通过{t.first_pass}期次，一次通过率"
        f"{pct(t.first_pass, t.submitted)}。")
    return {"tasks": n, "statuses": statuses, "overdue": t.overdue, "done": t.done,
            "done_pct": pct(t.done, n), "sentence": sentence,
            "versions_sentence": versions_sentence, "units_sentence": units_sentence}


def _finished(review: Review) -> dict[str, Any]:
    done = sorted((t for t in review.final_tasks if t.done),
                  key=lambda t: (t.completed_in or review.last, t.no or 0))
    rows = [{"no": _no(t), "text": _text(t, 40), "completed_in": str(t.completed_in),
             "when": t.completed_in.label if t.completed_in else "",
             "on_time": {True: "按期", False: "逾期完成", None: ""}[t.on_time]}
            for t in done]
    by_month: dict[str, list[TaskYear]] = {}
    for t in done:
        if t.completed_in:
            by_month.setdefault(t.completed_in.label, []).append(t)
    months = "；".join(f"{m}{len(ts)}项（序号{_nos(ts)}）" for m, ts in by_month.items())
    late = [t for t in done if t.on_time is False]
    sentence = (f"已完成任务{len(done)}项，按首次报完成的时间：{months}。" if done
                else "时段末尚无已完成的任务。")
    if late:
        sentence += f"其中{len(late)}项晚于时间节点完成（序号{_nos(late)}）。"
    rest = rows[MAX_FINISHED_ROWS:]
    more = (f"另有{len(rest)}项（序号{'、'.join(r['no'] for r in rest)}），"
            f"见年度汇总表“{SHEET_TASKS}”。" if rest else "")
    return {"count": len(done), "sentence": sentence, "rows": rows[:MAX_FINISHED_ROWS],
            "more": more}


def _who(units: tuple[OpenUnit, ...]) -> str:
    """“佘山镇等4家（滞后3家、未报送1家）”: the units a task waits on, by why."""
    groups: dict[str, list[str]] = {}
    for u in units:
        groups.setdefault(u.status, []).append(u.unit)
    order = [Status.BEHIND.value, Status.MISSING.value]
    ranked = sorted(groups, key=lambda s: order.index(s) if s in order else len(order))
    names = [u for s in ranked for u in groups[s]]
    if not names:
        return ""
    kinds = "、".join(f"{s}{len(groups[s])}家" for s in ranked)
    return names[0] + (f"等{len(names)}家" if len(names) > 1 else "") + f"（{kinds}）"


def _open(review: Review) -> dict[str, Any]:
    tasks = [t for t in review.final_tasks if not t.done]
    ranked = sorted(tasks, key=lambda t: (not t.overdue, t.status is not Status.BEHIND,
                                          t.no or 0))
    rows = []
    for t in ranked:
        reasons = [u for u in t.open_units if substantive_issue(u.issues)]
        who = _who(t.open_units)
        late = t.overdue or t.status is Status.BEHIND
        reason = (f"{reasons[0].unit}：{excerpt(reasons[0].issues, REASON_CHARS)}" if reasons
                  else "未说明原因" if late else "")
        rows.append({"no": _no(t), "text": _text(t), "deadline_text": plain_text(t.deadline_text),
                     "status": OVERDUE if t.overdue else t.status.value,
                     "fill": STATUS_HEX[OVERDUE] if t.overdue else
                     STATUS_HEX.get(t.status.value, "#FFFFFF"),
                     "who": who, "reason": reason,
                     "line": "；".join(x for x in (who, reason) if x) or "—"})
    overdue = [t for t in tasks if t.overdue]
    sentence = (f"时段末未完成任务{len(tasks)}项"
                + (f"，其中逾期{len(overdue)}项（序号{_nos(overdue)}）" if overdue else "")
                + "，主要情况如下：" if tasks else "时段末各项任务均已完成。")
    rest = rows[MAX_OPEN_ROWS:]
    more = (f"另有{len(rest)}项（序号{'、'.join(r['no'] for r in rest)}），"
            f"见年度汇总表“{SHEET_TASKS}”。" if rest else "")
    return {"count": len(tasks), "overdue": len(overdue), "sentence": sentence,
            "rows": rows[:MAX_OPEN_ROWS], "more": more}


def _unit_row(u: UnitYear) -> dict[str, Any]:
    rate = u.first_pass_rate
    return {"rank": u.rank, "name": u.name, "expected": u.expected, "on_time": u.on_time,
            "late": u.late, "missing": u.missing, "returned": u.returned,
            "first_pass": pct(u.first_pass, u.submitted) if rate is not None else "—",
            "score": f"{u.score:.1f}"}


def _units(review: Review) -> dict[str, Any]:
    units = review.units
    full = [u.name for u in units if u.score >= 100]
    everyone = len(units) <= MAX_UNIT_ROWS
    # the last ones by rank, ties kept whole
    shown = list(units) if everyone else [u for u in units if u.rank >= units[-MAX_UNIT_ROWS].rank]
    year = [(p, u.name, x[1] if x and x[0] else None, x[2] if x else 0)
            for u in units for p, x in zip(review.periods, u.by_period, strict=True) if x]
    flagged = cards(year)
    red = [u for u, (card, _) in flagged.items() if card == RED_CARD]
    yellow = [u for u, (card, _) in flagged.items() if card != RED_CARD]
    ranking = (f"按“按时报送、一次通过、按期完成”综合计分（满分100分，计算方法见年度汇总表"
               f"“{SHEET_UNITS}”），"
               + (f"{len(full)}家单位得满分" + (f"（{units_list(full)}）" if len(full) <= MAX_UNITS_LISTED
                                                 else "") if full else "没有单位得满分") + "。")
    low = review.ranked_last(MAX_LOW)
    if low:
        ranking += ("排名靠后的单位有：" + "、".join(f"{u.name}（{u.score:.1f}分）"
                                              for u in low) + "。")
    cards_sentence = ""
    if red:
        cards_sentence += f"逾期报送{RED_CARD_LATE}期及以上的单位（红牌）：{units_list(red)}。"
    if yellow:
        cards_sentence += (f"被退回修改{YELLOW_CARD_RETURNED}期及以上的单位（黄牌）："
                           f"{units_list(yellow)}。")
    note = (f"下表按排名列出全部{len(units)}家单位。" if everyone else
            f"下表列出排名最后的{len(shown)}家单位，全部单位见年度汇总表"
            f"“{SHEET_UNITS}”。")
    return {"ranking": ranking, "cards": cards_sentence, "red": red, "yellow": yellow,
            "rows": [_unit_row(u) for u in shown], "full": len(full),
            "table_note": note if units else ""}


def _trend(review: Review) -> dict[str, Any]:
    rows = []
    for p in review.by_period:
        rows.append({"period": str(p.period), "label": f"{p.period.month}月",
                     **{k: p.by_status[s] for k, s in (
                         ("done", Status.DONE), ("on_track", Status.ON_TRACK),
                         ("behind", Status.BEHIND), ("not_started", Status.NOT_STARTED))},
                     "overdue": p.overdue, "missing": p.missing,
                     "on_time_pct": pct(p.on_time, p.expected)})
    first, last = review.by_period[0], review.by_period[-1]
    rates = [p.on_time / p.expected for p in review.by_period if p.expected]
    if len(review.by_period) > 1:
        sentence = "".join(
            f"{lead}{_change([p.by_status[s] for p in review.by_period])}"
            for lead, s in ((f"从{first.period.label}到{last.period.label}，已完成任务",
                             Status.DONE), ("，滞后任务", Status.BEHIND)))
    else:
        sentence = (f"{first.period.label}已完成任务{first.by_status[Status.DONE]}项、"
                    f"滞后{first.by_status[Status.BEHIND]}项")
    if rates:
        low, high = min(rates), max(rates)
        sentence += (f"；各期按时报送率在{low * 100:.1f}%至{high * 100:.1f}%之间。" if low != high
                     else f"；各期按时报送率均为{low * 100:.1f}%。")
    else:
        sentence += "。"
    return {"rows": rows, "sentence": sentence, "chart": trend_chart(review)}


def _change(counts: list[int]) -> str:
    """由3项增至5项 / 由5项减至3项 / 保持3项 / 期间有增减、期末仍为3项, first period to last."""
    before, after = counts[0], counts[-1]
    if before == after:
        return f"保持{after}项" if len(set(counts)) == 1 else f"期间有增减、期末仍为{after}项"
    return f"由{before}项{'增至' if after > before else '减至'}{after}项"


def _suggestions(review: Review, units: dict[str, Any],
                 ) -> list[dict[str, str]]:
    year = review.span.year
    tasks = [t for t in review.final_tasks if not t.done]
    overdue = [t for t in tasks if t.overdue]
    out = []
    if tasks and _year_closed(review):
        out.append(f"对未完成的{len(tasks)}项任务（序号{_nos(tasks, MAX_NOS)}）逐项明确责任单位和"
                   f"完成时限，纳入{year + 1}年工作要点统筹推进。")
    elif tasks:
        out.append(f"对未完成的{len(tasks)}项任务（序号{_nos(tasks, MAX_NOS)}）跟踪督促，加快推进"
                   + (f"，其中逾期的{len(overdue)}项（序号{_nos(overdue, MAX_NOS)}）发函督办"
                      if overdue else "") + "。")
    if units["red"]:
        out.append(f"对逾期报送较多的单位（{units_list(units['red'])}）通报提醒，纳入年度考核。")
    if units["yellow"]:
        out.append(f"对填报表多次被退回修改的单位（{units_list(units['yellow'])}）加强填报培训，"
                   "提高一次通过率。")
    missing = [u.name for u in review.units if u.missing]
    if missing:
        out.append(f"{len(missing)}家单位有未报送的期次（{units_list(missing)}），请其落实专人负责按月报送。")
    out.append(f"总结本年度月度调度经验，{year + 1}年继续按月汇总通报各项任务推进情况。"
               if _year_closed(review) else
               "持续做好月度调度，按月汇总通报各项任务推进情况，确保全年任务按期完成。")
    return [{"no_cn": cn_number(i), "text": text} for i, text in enumerate(out, start=1)]


def _year_closed(review: Review) -> bool:
    """A review of the whole year, December consolidated: its suggestions are for next year."""
    return review.span.whole_year and review.last == review.span.end


def review_context(review: Review) -> dict[str, Any]:
    """Everything the review's templates and Word document show, ready-formatted.

    Keys: title, plan_title, span, label, coverage, period_end, intro, overview (statuses,
    sentences), finished (sentence, rows, more), open (sentence, rows, more), units
    (ranking, cards, rows, table_note), trend (sentence, rows, chart: SVG geometry),
    suggestions_title, suggestions, method (the ranking's method), review (`--json`).
    """
    open_ = _open(review)
    units = _units(review)
    span = review.span
    return {
        "title": review.title, "plan_title": review.plan_title, "span": span.words,
        "label": span.label, "coverage": review.coverage,
        "period_end": cn_date(review.last.end),
        "intro": f"现将{span.words}《{review.plan_title}》各项任务推进情况总结如下。",
        "overview": _overview(review), "finished": _finished(review), "open": open_,
        "units": units, "trend": _trend(review),
        "suggestions_title": "明年工作建议" if _year_closed(review) else "下步工作建议",
        "suggestions": _suggestions(review, units), "method": list(review.method),
        "review": review.to_json(),
    }


def render_review(review: Review, out_dir: Path, *, templates: Path | None = None,
                  ) -> dict[Path, str | bytes]:
    """Path -> content of the memo's .md, .html and .docx, rendered in memory only (a broken
    template raises GkreportError before anything is written)."""
    from gkreport.review.memodocx import review_docx

    ctx = review_context(review)
    env = template_env(templates)
    stem = out_dir / memo_stem(review)
    md, html = REVIEW_TEMPLATES
    out: dict[Path, str | bytes] = {stem.with_suffix(".md"): render_template(env, md, ctx),
                                    stem.with_suffix(".html"): render_template(env, html, ctx)}
    end = review.last.end
    out[stem.with_suffix(".docx")] = review_docx(ctx, created=datetime(end.year, end.month,
                                                                         end.day))
    return out

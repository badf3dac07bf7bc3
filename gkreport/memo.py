"""The leaders' memo (简报 .md/.html/.docx) and the reminder notice, rendered from one context.

Every figure comes from `consolidate.summarise(report)` or the Report's dataclasses and is
formatted here: templates only arrange ready-made strings and numbers (STYLE.md 14). The
Word layout (GB/T 9704) is in `memodocx`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .consolidate import NEAR_DEADLINE_DAYS, substantive_issue, summarise
from .memodocx import docx_bytes
from .model import (
    COLOUR_HEX,
    NEEDS_FIX,
    NOT_SUBMITTED,
    OVERDUE,
    REPORTABLE,
    STATUS_HEX,
    Colour,
    Entry,
    Period,
    Report,
    Status,
    TaskResult,
)
from .problems import GkreportError, Problem, problem
from .text import clean
from .xlsxutil import atomic_path, write_text_atomic

BUNDLED_TEMPLATES = Path(__file__).resolve().parent / "templates"
MEMO_TEMPLATES = ("memo.md.j2", "memo.html.j2")
NOTICE_TEMPLATE = "notice.md.j2"
# Chart rows beyond the statuses: 临期 (blue) and 待核实 (yellow), as in the workbook.
NEAR_LABEL = f"{NEAR_DEADLINE_DAYS}日内到期"
MAX_QUOTES = 3  # highlight quotes: a memo is one or two pages
MAX_ISSUES = 4
MAX_REASONS = 2
MAX_DETAILED = 2  # above this many late tasks, only overdue ones get a paragraph
MAX_TABLE_REASON = 30
MAX_QUOTE_CHARS = 70
MAX_UNITS_LISTED = 8
MAX_NOTICE_PROBLEMS = 5  # per unit; the annotated file carries every one
SUBSTANTIVE_CHARS = 12  # shorter progress notes ("已完成。") say nothing worth quoting
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")  # invalid in XML, so python-docx refuses them
_CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1 -> 一, 12 -> 十二, 21 -> 二十一 (section numbers up to 99)."""
    tens, ones = divmod(n, 10)
    if n < 10:
        return _CN_DIGITS[n]
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")


def pct(part: int, whole: int) -> str:
    """A share as the memo prints it: one decimal and a percent sign."""
    return f"{part * 100 / whole:.1f}%" if whole else "0.0%"


def cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _text(value: object, limit: int | None = None) -> str:
    """Unit text for display: one line, no control characters, capped with an ellipsis."""
    text = clean(_CONTROL.sub("", str(value or "")))
    if limit and len(text) > limit:
        text = text[:limit].rstrip("，,；;、 ") + "……"
    return text


def _short_task(tr: TaskResult, limit: int = 40) -> str:
    """The task text for a sentence: capped, without its own closing full stop."""
    text = _text(tr.task.text.rstrip("。；;，, \n"), limit)
    # Plans exported from Word often carry half-width commas inside Chinese sentences.
    return re.sub(r"(?<=[\u4e00-\u9fff”）]),\s*(?=[\u4e00-\u9fff“（])", "，", text)


def _units_text(text: str) -> str:
    """责任单位 as written, without the stray spaces line breaks left around 、."""
    return re.sub(r"\s*、\s*", "、", _text(text)).strip("、")


def _deadline(tr: TaskResult) -> str:
    d = tr.task.deadline
    return f"{d.text}（{cn_date(d.date)}）" if d.date and d.text != cn_date(d.date) else d.text


def _units_list(names: list[str] | tuple[str, ...]) -> str:
    names = list(names)
    if len(names) <= MAX_UNITS_LISTED:
        return "、".join(names)
    return "、".join(names[:MAX_UNITS_LISTED]) + f"等{len(names)}家"


def _nos(rows: list[TaskResult]) -> str:
    return "、".join(str(t.task.no) for t in rows)


def _overview(report: Report, s: dict[str, Any]) -> dict[str, Any]:
    tasks, units = s["tasks"], s["units"]
    total = tasks["total"]
    statuses = [{"label": st.value, "count": tasks[st.value], "pct": pct(tasks[st.value], total),
                 "fill": STATUS_HEX[st]} for st in REPORTABLE]
    parts = "，".join(f"{x['label']}{x['count']}项（占{x['pct']}）" for x in statuses)
    near = len(s["near_deadline"])
    unverified, unverified_reports = s["unverified"]["tasks"], s["unverified"]["reports"]
    sentence = (f"{report.plan.title}共{total}项任务。截至{report.period.label}底，{parts}；"
                f"其中逾期{tasks[OVERDUE]}项（占{pct(tasks[OVERDUE], total)}）。")
    if near:
        sentence += f"另有{near}项任务将于{NEAR_DEADLINE_DAYS}日内到期。"
    if unverified:
        sentence += (f"{unverified}项任务有{unverified_reports}条填报待核实"
                     "（完成状态无法识别或该行未采用），需向单位核实。")
    expected, submitted = units["expected"], units["submitted"]
    u = {"expected": expected, "submitted": submitted, "submitted_pct": pct(submitted, expected),
         "missing": len(units["missing"]), "needs_fix": len(units["needs_fix"])}
    units_sentence = (f"本期应报送单位{expected}家，已报送{submitted}家（报送率{u['submitted_pct']}），"
                      f"未报送{u['missing']}家；已报送单位中需退回修改{u['needs_fix']}家。")
    return {"total": total, "statuses": statuses, "overdue": tasks[OVERDUE],
            "overdue_pct": pct(tasks[OVERDUE], total), "near": near,
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


def _categories(report: Report, s: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for i, (name, c) in enumerate(s["tasks"]["by_category"].items(), start=1):
        total = c["total"]
        sentence = (f"该类共{total}项任务，已完成{c[Status.DONE.value]}项，"
                    f"按计划推进{c[Status.ON_TRACK.value]}项，滞后{c[Status.BEHIND.value]}项，"
                    f"未启动{c[Status.NOT_STARTED.value]}项，逾期{c[OVERDUE]}项，"
                    f"完成率{pct(c[Status.DONE.value], total)}。")
        out.append({"no": i, "no_cn": cn_number(i), "name": name, "total": total,
                    "done": c[Status.DONE.value], "on_track": c[Status.ON_TRACK.value],
                    "behind": c[Status.BEHIND.value], "not_started": c[Status.NOT_STARTED.value],
                    "overdue": c[OVERDUE], "done_pct": pct(c[Status.DONE.value], total),
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
    return "从各类任务看，" + "；".join(parts) + "。" if parts else ""


def _entries_by_task(report: Report) -> dict[int, list[Entry]]:
    by: dict[int, list[Entry]] = {}
    for e in report.entries:
        by.setdefault(e.task_no, []).append(e)
    return by


def _highlights(report: Report) -> dict[str, Any]:
    newly = [t for t in report.tasks if t.status is Status.DONE and t.previous_status is not None
             and t.previous_status is not Status.DONE]
    newly_done = [{"no": t.task.no, "text": _short_task(t), "units": _units_text(t.task.units_text)}
                  for t in newly]
    # Longest substantive notes, done before on-track, one quote per unit.
    ranked = sorted((e for e in report.entries if e.status in (Status.DONE, Status.ON_TRACK)
                     and len(_text(e.note)) >= SUBSTANTIVE_CHARS),
                    key=lambda e: (e.status is not Status.DONE, -len(_text(e.note)), e.task_no,
                                   e.unit))
    quotes, seen = [], set()
    for e in ranked:
        if e.unit in seen:
            continue
        seen.add(e.unit)
        quotes.append({"unit": e.unit, "task_no": e.task_no, "status": e.status.value,
                       "text": _text(e.note, MAX_QUOTE_CHARS)})
        if len(quotes) == MAX_QUOTES:
            break
    if newly:
        sentence = f"本月新增完成任务{len(newly)}项（序号{_nos(newly)}）。"
    elif report.previous_period:
        sentence = "本月无新增完成的任务。"
    else:
        sentence = ""
    quotes_intro = "各单位报送的进展中，较有代表性的有：" if quotes else ""
    if not (sentence or quotes):
        sentence = "本期暂无已完成或有实质进展的事项可供总结。"
    return {"newly_done": newly_done, "quotes": quotes, "sentence": sentence,
            "quotes_intro": quotes_intro}


def _delays(report: Report, by_task: dict[int, list[Entry]]) -> list[dict[str, Any]]:
    """Overdue and behind tasks; `detail` marks those that get a paragraph under the table."""
    out: list[dict[str, Any]] = []
    late = [t for t in report.tasks if t.overdue or t.status is Status.BEHIND]
    # Many late tasks: the table carries them all, paragraphs only the overdue ones,
    # which keeps the memo near two pages.
    few = len(late) <= MAX_DETAILED
    for t in late:
        given = [(e.unit, _text(e.issues, MAX_QUOTE_CHARS)) for e in by_task.get(t.task.no, [])]
        given = [(u, x) for u, x in given if substantive_issue(x)]
        reasons = [{"unit": u, "text": x} for u, x in given[:MAX_REASONS]]
        if given:
            short = f"{given[0][0]}：{_text(given[0][1], MAX_TABLE_REASON)}"
            short += f"（共{len(given)}家说明原因）" if len(given) > 1 else ""
        else:
            short = "未说明原因"
        counts = (f"应报{t.expected}家，已报{t.reported}家，已完成{t.done}家，"
                  f"滞后{t.behind}家，未报送{t.missing}家")
        out.append({"no": t.task.no, "text": _short_task(t, 32),
                    "units": _units_text(t.task.units_text),
                    "units_short": _text(_units_text(t.task.units_text), 24),
                    "deadline": _deadline(t), "deadline_text": _text(t.task.deadline.text),
                    "overdue": t.overdue, "label": OVERDUE if t.overdue else Status.BEHIND.value,
                    "status": t.status.value,
                    "fill": STATUS_HEX[OVERDUE] if t.overdue else STATUS_HEX[Status.BEHIND],
                    "counts": counts, "missing_units": _units_list(t.missing_units),
                    "reasons": reasons, "reason_short": short, "detail": few or t.overdue,
                    "reasons_text": "；".join(f"{r['unit']}：“{r['text']}”" for r in reasons)
                    or "责任单位未说明原因"})
    for i, d in enumerate((d for d in out if d["detail"]), start=1):
        d["no_cn"] = cn_number(i)
    return out


def _issues(report: Report, s: dict[str, Any], delays: list[dict[str, Any]]) -> dict[str, Any]:
    # the same rule as the workbook's 问题与建议 sheet: one row there per entry here
    raised = [e for e in report.entries if substantive_issue(e.issues)]
    items: list[dict[str, Any]] = []
    # Quote a reason once: the late-task table shows each task's first reason, the
    # paragraphs all of theirs.
    seen = {r["text"] for d in delays for r in (d["reasons"] if d["detail"] else d["reasons"][:1])}
    for e in sorted(raised, key=lambda e: (-len(_text(e.issues)), e.task_no, e.unit)):
        text = _text(e.issues, MAX_QUOTE_CHARS)
        if text in seen:
            continue
        seen.add(text)
        items.append({"unit": e.unit, "task_no": e.task_no, "text": text})
        if len(items) == MAX_ISSUES:
            break
    items.sort(key=lambda i: (i["task_no"], i["unit"]))
    units = len({e.unit for e in raised})
    sentence = ("本期各单位未反映需要协调的问题。" if not raised
                else f"共有{units}家单位反映问题{len(raised)}条，" + (
                    "除上述滞后原因外，主要有：" if items else "主要为上述滞后原因。"))
    p = s["problems"]
    quality = (f"填报质量方面，本期校验发现错误{p['错误']}处、警告{p['警告']}处，"
               f"{len(s['units']['needs_fix'])}家单位的填报表需退回修改；"
               f"{len(s['units']['missing'])}家单位未按时报送。")
    return {"sentence": sentence, "points": items, "quality": quality}


def _suggestions(report: Report, s: dict[str, Any]) -> list[dict[str, str]]:
    overdue = [t for t in report.tasks if t.overdue]
    behind = [t for t in report.tasks if t.status is Status.BEHIND and not t.overdue]
    # 临期 is the workbook's blue: consolidate's one near-deadline rule
    upcoming = [t for t in report.tasks if t.colour is Colour.BLUE]
    missing, needs_fix = s["units"]["missing"], s["units"]["needs_fix"]
    out = []
    if overdue:
        out.append(f"对逾期的{len(overdue)}项任务（序号{_nos(overdue)}）发函督办，请责任单位说明原因、"
                   "明确完成时限，逾期事项逐项销号。")
    if behind:
        out.append(f"对进度滞后的{len(behind)}项任务（序号{_nos(behind)}）加强跟踪，督促责任单位"
                   "制定整改措施、加快推进。")
    if upcoming:
        when = "、".join(f"序号{t.task.no}（{cn_date(t.task.deadline.date)}）" for t in upcoming
                        if t.task.deadline.date)
        out.append(f"{len(upcoming)}项任务将于{NEAR_DEADLINE_DAYS}日内到期（{when}），请责任单位"
                   "抓紧推进，确保按期完成。")
    if missing:
        out.append(f"提醒未报送的{len(missing)}家单位尽快补报（名单见附）。")
    if needs_fix:
        out.append(f"将{len(needs_fix)}家单位的填报表退回修改（标注文件见“退回修改”文件夹），"
                   "请其按标注修改后重新报送。")
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
    label = Period.parse(report.previous_period).label
    # an older period (a month skipped, or of another plan version) is 上期, not 上月
    month = "上月" if report.previous_period == str(report.period.previous) else "上期"
    sentences = [f"与{month}（{label}）相比，本月新增完成{len(newly_done)}项，新增滞后{len(newly_behind)}项，"
                 f"由滞后转为正常推进或完成{len(recovered)}项；"
                 + (f"已完成任务由{done_before}项变为{done_now}项。" if done_before != done_now
                    else f"已完成任务仍为{done_now}项。")]
    return {"previous_period": report.previous_period, "previous_label": label,
            "newly_done": len(newly_done), "newly_behind": len(newly_behind),
            "recovered": len(recovered), "done_before": done_before, "done_now": done_now,
            "sentences": sentences}


def _problem_line(p: Problem) -> str:
    """“填报表 D7：message。fix。” — the unit knows its own file, so the sheet and cell suffice."""
    where = " ".join(x for x in (p.sheet, p.cell) if x) or p.location()
    text = _text(p.message).rstrip("。") + "。" + (_text(p.fix).rstrip("。") + "。" if p.fix else "")
    return f"{_text(where)}：{text}" if where else text


def _units(report: Report, annotated: Mapping[str, Path]) -> tuple[list[dict], list[dict]]:
    missing, fix = [], []
    for u in report.units:
        if u.state == NOT_SUBMITTED:
            missing.append({"name": u.unit.name, "kind": u.unit.kind.value,
                            "contact": _text(u.unit.contact) or "名录未登记",
                            "phone": _text(u.unit.phone) or "名录未登记"})
        elif u.state == NEEDS_FIX:
            path = annotated.get(u.unit.name)
            # The errors of the file the count is about (the accepted form), as consolidate
            # counts them: a refused older form's problems are not listed here.
            problems = [{"where": _text(" ".join(x for x in (p.sheet, p.cell) if x)
                                        or p.location()),
                         "message": _text(p.message), "fix": _text(p.fix),
                         "line": _problem_line(p)}
                        for p in report.problems if p.unit == u.unit.name and p.is_error
                        and (not p.file or p.file == u.file)]
            fix.append({"name": u.unit.name, "errors": u.errors, "warnings": u.warnings,
                        "file": _text(u.file), "annotated": f"退回修改/{path.name}" if path else "",
                        "problems": problems[:MAX_NOTICE_PROBLEMS],
                        "more": max(u.errors - len(problems[:MAX_NOTICE_PROBLEMS]), 0)})
    return missing, fix


def memo_context(report: Report, *, annotated: Mapping[str, Path] | None = None) -> dict[str, Any]:
    """Everything the memo and notice templates show, as plain, ready-formatted data.

    Keys: title, plan_title, period, period_label, period_end, intro, overview (statuses,
    units, sentences), chart (SVG geometry), mom (None without a previous period),
    categories, categories_sentence, highlights, delays, delay_details, delays_sentence,
    issues, suggestions, missing_units, fix_units, missing_line, fix_line, summary.
    `annotated` maps a unit to its 退回修改/ copy, named in the notice.
    """
    s = summarise(report)
    overview = _overview(report, s)
    missing, fix = _units(report, annotated or {})
    plan_title = report.plan.title
    delays = _delays(report, _entries_by_task(report))
    cats = _categories(report, s)
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
        "delay_details": [d for d in delays if d["detail"]],
        "delays_sentence": (f"本期逾期{overview['overdue']}项、滞后（未逾期）"
                            f"{len(delays) - overview['overdue']}项，具体如下：" if delays
                            else "本期无逾期或滞后事项。"),
        "issues": _issues(report, s, delays),
        "suggestions": _suggestions(report, s),
        "missing_units": missing,
        "fix_units": fix,
        "missing_line": (f"未报送单位（{len(missing)}家）："
                         + ("、".join(u["name"] for u in missing) or "无") + "。"),
        "fix_line": (f"需修改单位（{len(fix)}家）："
                     + ("、".join(f"{u['name']}（错误{u['errors']}处）" for u in fix) or "无") + "。"),
        "summary": s,
    }


# --- Jinja ---------------------------------------------------------------------------------


def _md_cell(value: object) -> str:
    """Text safe inside a Markdown table cell."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def template_env(templates: Path | None = None) -> Any:
    """The Jinja environment: the workspace's templates/ first, then the bundled ones."""
    from jinja2 import (
        ChoiceLoader,
        Environment,
        FileSystemLoader,
        StrictUndefined,
        select_autoescape,
    )

    loaders = [FileSystemLoader(str(templates))] if templates and templates.is_dir() else []
    loaders.append(FileSystemLoader(str(BUNDLED_TEMPLATES)))
    env = Environment(loader=ChoiceLoader(loaders), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "html.j2", "htm"]),
                      keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["md_cell"] = _md_cell
    return env


_JINJA_MESSAGES = (  # Jinja's English messages that users of a template meet, in Chinese
    (re.compile(r"^'(.+)' is undefined$"), "变量 {0} 未定义"),
    (re.compile(r"^'(.+)' has no attribute '(.+)'$"), "变量没有属性 {1}"),
    (re.compile(r"^'(.+)' object has no attribute '(.+)'$"), "变量没有属性 {1}"),
)


def _template_error(exc: Exception, name: str) -> GkreportError:
    """A Jinja failure as a Chinese problem naming the template file and line."""
    from jinja2 import TemplateNotFound, TemplateSyntaxError, UndefinedError

    path, line = name, None
    if isinstance(exc, TemplateSyntaxError):
        path, line = exc.filename or exc.name or name, exc.lineno
        detail = f"语法错误（{exc.message}）"
    elif isinstance(exc, TemplateNotFound):
        detail = "找不到该模板"
    else:
        # Jinja rewrites the traceback so a template's own frames carry its file and line;
        # the innermost one is where it failed (an {% include %}d template included).
        frames = [f for f in _frames(exc) if not f[0].endswith(".py") and not f[0].startswith("<")]
        if frames:
            path, line = frames[-1]
        message = str(exc)
        detail = next((chinese.format(*m.groups()) for pattern, chinese in _JINJA_MESSAGES
                       if isinstance(exc, UndefinedError) and (m := pattern.match(message))),
                      f"无法渲染（{type(exc).__name__}：{message}）")
    return GkreportError(problem("template-error", name=Path(path).name, path=path,
                                 line=line if line is not None else "?", detail=detail))


def _frames(exc: BaseException) -> list[tuple[str, int]]:
    import traceback

    return [(f.filename, f.lineno or 0) for f in traceback.extract_tb(exc.__traceback__)]


def _render(env: Any, name: str, ctx: dict[str, Any]) -> str:
    """One template rendered; any Jinja failure becomes a GkreportError (template-error)."""
    try:
        return str(env.get_template(name).render(**ctx))
    except GkreportError:
        raise
    except Exception as exc:  # a workspace template may fail in any way: report, not crash
        raise _template_error(exc, name) from exc


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
                   templates: Path | None = None, annotated: Mapping[str, Path] | None = None
                   ) -> dict[Path, str | bytes]:
    """Path -> content of each output (templates by name, "docx"), rendered in memory only.

    Raises GkreportError (template-error) for a broken template; nothing is written, so a
    caller can render first, then write its other outputs and `write_outputs(...)`.
    """
    ctx = memo_context(report, annotated=annotated)
    env = template_env(templates)
    md, html, docx = memo_paths(report, out_dir)
    where = {"memo.md.j2": md, "memo.html.j2": html, NOTICE_TEMPLATE: notice_path(report, out_dir)}
    out: dict[Path, str | bytes] = {}
    for name in names:
        if name == "docx":
            out[docx] = docx_bytes(ctx, created=_created(report))
        else:
            out[where[name]] = _render(env, name, ctx)
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
               annotated: Mapping[str, Path] | None = None) -> list[Path]:
    """Write the memo (.md, .html, .docx) and the notice; return [md, html, docx, notice].

    Everything is rendered in memory first: a broken template raises GkreportError
    (template-error, naming the file and line) before any file is written or replaced.
    """
    return write_outputs(render_outputs(report, out_dir, templates=templates,
                                        annotated=annotated))


def render_memo(report: Report, out_dir: Path, *, templates: Path | None = None,
                annotated: Mapping[str, Path] | None = None) -> list[Path]:
    """Write 简报_PERIOD.md, .html and .docx into out_dir (all rendered before any is written)."""
    contents = render_outputs(report, out_dir, (*MEMO_TEMPLATES, "docx"),
                              templates=templates, annotated=annotated)
    return write_outputs(contents)


def render_notice(report: Report, out_dir: Path, *, templates: Path | None = None,
                  annotated: Mapping[str, Path] | None = None) -> Path:
    """Write 催报通知_PERIOD.md (missing units, forms to correct) into out_dir."""
    contents = render_outputs(report, out_dir, (NOTICE_TEMPLATE,), templates=templates,
                              annotated=annotated)
    return write_outputs(contents)[0]

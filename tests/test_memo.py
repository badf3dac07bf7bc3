"""The memo (.md/.html/.docx) and the notice: figures equal summary.json, templates, Word layout."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from gkreport.consolidate import consolidate
from gkreport.core.model import (
    COLOUR_HEX,
    REPORTABLE,
    Colour,
    Deadline,
    Entry,
    FileCounts,
    Period,
    Plan,
    Returns,
    RowCounts,
    Status,
    Submission,
    SubmissionState,
    Unit,
)
from gkreport.core.problems import GkreportError, problem
from gkreport.core.report import Report, TaskResult, UnitResult
from gkreport.render.memo import (
    MAX_DELAY_ROWS,
    MAX_UNITS_INLINE,
    memo_context,
    render_all,
    render_outputs,
    write_outputs,
)
from gkreport.render.notice import Notice
from gkreport.render.wording import cn_date, md_escape
from tests.factories import build_report, rebuild, render_memo, render_notice
from tests.lo import convert, needs_lo

ROOT = Path(__file__).resolve().parents[1]
JULY = Period(2025, 7)
EVIL = "<script>x()</script>{{ 7*7 }}{% if %}"  # short enough to be quoted whole
DONE, ON, BEHIND, NOT = Status.DONE, Status.ON_TRACK, Status.BEHIND, Status.NOT_STARTED
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


# ---------------------------------------------------------------- a hand-built Report


def _target(no: int) -> Status:
    return (DONE, ON, BEHIND, NOT, ON)[no % 5]


def make_report(plan: Plan, *, previous: bool = True, period: Period = JULY) -> Report:
    """A July report on the bundled plan: every status, overdue and upcoming tasks, missing
    units, forms to correct, a unit note and issue carrying template syntax and <script>."""
    # Task 18 (政府开放月) falls due within 30 days after July, so it is an upcoming deadline.
    tasks = tuple(replace(t, deadline=Deadline("8月中旬前", date(2025, 8, 15))) if t.no == 18
                  else t for t in plan.tasks)
    plan = replace(plan, tasks=tasks)
    expected = plan.expected_units
    missing = set(expected[3::7])
    needs_fix = list(expected[5::11])
    units = {u.name: u for u in plan.units}
    if missing:  # one missing unit has its contact registered, the others are blank
        first = sorted(missing, key=expected.index)[0]
        units[first] = replace(units[first], contact="张三", phone="021-5778 0000")
    entries: list[Entry] = []
    results: list[TaskResult] = []
    for t in plan.tasks:
        target = _target(t.no)
        overdue = t.deadline.date is not None and t.deadline.date < period.end and target is not DONE
        status = BEHIND if overdue else target
        rows = []
        for k, u in enumerate(t.expected_units):
            if u in missing:
                continue
            note = f"{u}围绕任务{t.no}开展工作，" + "完成相关信息公开和解读材料发布，" * (k % 4)
            issues = "无"
            if status is BEHIND:
                issues = f"{u}反映：人员调整，任务{t.no}进度受影响" + "，需协调" * (k % 3)
            if t.no == 5 and k == 0:
                note = f"{EVIL} 已在门户网站集中发布政策文件并同步开展解读工作" + "。" * 80
            if t.no == 2 and k == 0:
                issues = f"{EVIL} 经费尚未落实"
            if t.no == 1 and k == 0:  # an on-track task's problem: quoted in 存在问题
                issues = EVIL
            rows.append(Entry(task_no=t.no, unit=u, status=status, raw_status=status.value,
                              progress=100.0 if status is DONE else 50.0, note=note,
                              issues=issues, next_steps="继续推进", file=f"{u}.xlsx",
                              sheet="填报表", row=6 + t.no, cell=f"D{6 + t.no}"))
        entries += rows
        prev = {5: ON, 10: ON, 1: BEHIND, 2: ON}.get(t.no, target) if previous else None
        colour = (Colour.RED if overdue else Colour.YELLOW if status is BEHIND
                  else Colour.GREEN if status is DONE
                  else Colour.BLUE if t.no == 18 else Colour.NONE)
        results.append(TaskResult(
            task=t, status=status, overdue=overdue, colour=colour,
            expected=len(t.expected_units), reported=len(rows),
            done=sum(e.status is DONE for e in rows), behind=sum(e.status is BEHIND for e in rows),
            missing=len(t.expected_units) - len(rows), avg_progress=None,
            missing_units=tuple(u for u in t.expected_units if u in missing),
            previous_status=prev,
            change=f"{prev.value}→{status.value}" if prev and prev is not status else "",
            behind_units=tuple(e.unit for e in rows if e.status is BEHIND),
            open_units=tuple(e.unit for e in rows if e.status not in (DONE, BEHIND))))
    problems = []
    unit_results = []
    for i, name in enumerate(expected):
        fix = name in needs_fix
        mine = [problem("unknown-status", file=f"{name}.xlsx", sheet="填报表", cell=f"D{7 + j}",
                        unit=name, value="差不多") for j in range(i % 3 + 1)] if fix else []
        problems += mine
        unit_results.append(UnitResult(
            unit=units[name], state=SubmissionState("未报送" if name in missing else "需修改" if fix else "已报送"),
            file="" if name in missing else f"{name}.xlsx", tasks=len(plan.tasks_for(name)),
            errors=len(mine), warnings=0))
    return build_report(period=period, plan=plan, tasks=tuple(results), units=tuple(unit_results),
                  entries=tuple(entries), submissions=(), problems=tuple(problems),
                  files=FileCounts(50, 49, 1, 0), rows=RowCounts(len(entries), len(entries), 0),
                  previous_period=period.previous if previous else None,
                  due=date(period.next.year, period.next.month, 5))


@pytest.fixture(scope="module")
def report(plan: Plan) -> Report:
    return make_report(plan)


@pytest.fixture(scope="module")
def rendered(report: Report, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("memo")
    annotated = {name: out / "退回修改" / f"{name}.xlsx" for name in report.summary.to_json()["units"]
                 ["needs_fix"][:-1]}  # the last one has no annotated copy: the notice says so
    md, html, docx = render_memo(report, out, annotated=annotated)
    notice = render_notice(report, out, annotated=annotated,
                           notice=Notice(sender="区政府办公室", contact="区政府办公室 王五 57771234",
                                         issued=date(2025, 8, 8)))
    return {"md": md, "html": html, "docx": docx, "notice": notice, "out": out}


def docx_text(path: Path) -> str:
    """Every paragraph, table cell and footer of the .docx, one per line."""
    from docx import Document

    doc = Document(str(path))
    lines = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            lines.append("| " + " | ".join(c.text for c in row.cells) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------- figures = summary.json


def best_name(text: str) -> str:
    return re.search(r"“([^”]+)”完成率最高", text).group(1)


def check_figures(text: str, report: Report) -> int:
    """Parse every figure back out of the memo text and compare with summarise(); count checks."""
    s = report.summary.to_json()
    tasks, units = s["tasks"], s["units"]
    total = tasks["total"]
    checked = 0

    def pct(n: int, d: int) -> str:
        return f"{n * 100 / d:.1f}"

    m = re.search(r"全年共(\d+)项任务，截至(\d+)月底，(.+?)，完成率([\d.]+)%。", text)
    assert (int(m.group(1)), int(m.group(2))) == (total, report.period.month)
    assert m.group(4) == pct(tasks["已完成"], total)
    for st in REPORTABLE:
        n = re.search(rf"(?:^|，){st.value}(\d+)项", m.group(3))
        assert int(n.group(1)) == tasks[st.value]
        checked += 1
    late = re.search(r"，滞后\d+项（其中逾期(\d+)项）", m.group(3))
    assert (int(late.group(1)) if late else 0) == tasks["逾期"]
    near = re.search(r"另有(\d+)项任务将于30日内到期。", text)
    assert (int(near.group(1)) if near else 0) == len(s["near_deadline"])
    unverified = re.search(r"(\d+)项任务有(\d+)条填报待核实", text)
    assert ((int(unverified.group(1)), int(unverified.group(2))) if unverified else (0, 0)) == (
        s["unverified"]["tasks"], s["unverified"]["reports"])
    m = re.search(r"本期应报送单位(\d+)家，已报送(\d+)家(?:（按时(\d+)家、逾期(\d+)家）)?、"
                  r"未报送(\d+)家，报送率([\d.]+)%；"
                  r"校验发现错误(\d+)处、警告(\d+)处，需退回修改(\d+)家。", text)
    timely = len(units["on_time"]) + len(units["late"]) == units["submitted"] > 0
    assert m.groups() == (str(units["expected"]), str(units["submitted"]),
                          str(len(units["on_time"])) if timely else None,
                          str(len(units["late"])) if timely else None,
                          str(len(units["missing"])), pct(units["submitted"], units["expected"]),
                          str(s["problems"]["错误"]), str(s["problems"]["警告"]),
                          str(len(units["needs_fix"])))
    for name, c in tasks["by_category"].items():
        row = re.search(rf"^\| {re.escape(name)} \| (.*)$", text, re.M).group(1)
        cells = [x.strip(" |") for x in row.split(" | ")]
        assert cells == [str(c[k]) for k in ("total", "已完成", "按计划推进", "滞后", "未启动",
                                             "逾期")] + [pct(c["已完成"], c["total"]) + "%"]
        checked += 1
    m = re.search(r"“([^”]+)”完成率最高（([\d.]+)%）", text)
    if m or tasks["已完成"]:
        best = tasks["by_category"][m.group(1)]
        assert m.group(2) == pct(best["已完成"], best["total"]) == max(
            (pct(c["已完成"], c["total"]) for c in tasks["by_category"].values()), key=float)
    m = re.search(r"(?:“([^”]+)”|该类)滞后任务最多（(\d+)项，其中逾期(\d+)项）", text)
    if m or tasks["滞后"]:
        worst = tasks["by_category"][m.group(1) or best_name(text)]
        assert (int(m.group(2)), int(m.group(3))) == (worst["滞后"], worst["逾期"])
        assert worst["滞后"] == max(c["滞后"] for c in tasks["by_category"].values())
    checked += check_late_tasks(text, report)
    checked += check_unit_lists(text, report)
    if report.previous_period:
        prev = [t for t in report.tasks if t.previous_status is not None]
        m = re.search(r"相比，(?:新增完成(\d+)项，?)?(?:新增滞后(\d+)项，?)?"
                      r"(?:滞后转为正常或完成(\d+)项)?(?:各项任务状态没有变化)?"
                      r"(?:；已完成任务由(\d+)项变为(\d+)项)?。", text)
        before, now = (m.group(4), m.group(5)) if m.group(4) else (tasks["已完成"],) * 2
        assert (int(m.group(1) or 0), int(m.group(2) or 0), int(m.group(3) or 0), int(before),
                int(now)) == (
            sum(t.status is DONE and t.previous_status is not DONE for t in prev),
            sum(t.status is BEHIND and t.previous_status is not BEHIND for t in prev),
            sum(t.previous_status is BEHIND and t.status in (DONE, ON) for t in prev),
            sum(t.previous_status is DONE for t in prev), tasks["已完成"])
        assert m.group(4) != m.group(5) or m.group(4) is None  # said only when it changed
        checked += 1
    else:
        assert "与上月" not in text and "与上期" not in text
    return checked


def check_late_tasks(text: str, report: Report) -> int:
    """The late-task table shows the most important few, overdue first; the rest are counted
    and numbered; together they are every overdue or behind task, once."""
    late = {t.task.no: t for t in report.tasks if t.overdue or t.status is BEHIND}
    overdue = sum(t.overdue for t in late.values())
    m = re.search(r"本期逾期(\d+)项、滞后（未逾期）(\d+)项", text)
    if not late:
        assert "本期无逾期或滞后事项。" in text and not m
        return 0
    assert (int(m.group(1)), int(m.group(2))) == (overdue, len(late) - overdue)
    rows = re.findall(r"^\|\s*(\d+)\s*\|.*\|\s*(逾期|滞后|到期未完成)\s*\|[^|]*\|?\s*$",
                      text, re.M)
    shown = [int(no) for no, _ in rows]

    def label(t: TaskResult) -> str:  # 到期未完成 in its deadline's month, 逾期 after
        d = t.task.deadline.date
        if not t.overdue:
            return "滞后"
        return "到期未完成" if d and (d.year, d.month) == (report.period.year,
                                                           report.period.month) else "逾期"

    assert [label for _, label in rows] == [label(late[n]) for n in shown]
    assert len(shown) == min(len(late), MAX_DELAY_ROWS)
    assert shown == sorted(shown, key=lambda n: (not late[n].overdue, n))  # overdue first
    # the most important: every overdue task the table has room for
    assert sum(late[n].overdue for n in shown) == min(overdue, MAX_DELAY_ROWS)
    m = re.search(r"另有(?:逾期(\d+)项)?、?(?:滞后(\d+)项)?（序号([\d、]+)），见汇总表“逾期滞后”。",
                  text)
    rest = [int(n) for n in m.group(3).split("、")] if m else []
    assert sorted(shown + rest) == sorted(late)
    if m:
        assert (int(m.group(1) or 0), int(m.group(2) or 0)) == (
            sum(late[n].overdue for n in rest), sum(not late[n].overdue for n in rest))
    return 1


def check_unit_lists(text: str, report: Report) -> int:
    """Missing and to-correct units: named in the next steps when few, else in the 附件."""
    units = report.summary.to_json()["units"]
    missing, fix = units["missing"], units["needs_fix"]
    errors = {u.unit.name: u.errors for u in report.units}
    if len(missing) + len(fix) > MAX_UNITS_INLINE:
        assert "（名单见附件）" in text
        m = re.search(r"未报送单位（(\d+)家）：(.*)。", text)
        assert int(m.group(1)) == len(missing) and m.group(2).split("、") == missing
        m = re.search(r"需修改单位（(\d+)家）：(.*)。", text)
        assert int(m.group(1)) == len(fix)
        listed = re.findall(r"([^、：]+)（错误(\d+)处）", m.group(2))
        assert [(n, int(e)) for n, e in listed] == [(n, errors[n]) for n in fix]
        return 2
    assert "附件" not in text
    m = re.search(r"提醒未报送的(\d+)家单位（(.*?)）尽快补报", text)
    assert (int(m.group(1)), m.group(2).split("、")) == (len(missing), missing) if missing else not m
    m = re.search(r"退回(\d+)家单位（(.*?)）的填报表", text)
    assert (int(m.group(1)), m.group(2).split("、")) == (len(fix), fix) if fix else not m
    return 2


def test_md_figures_equal_summary(rendered, report):
    text = rendered["md"].read_text(encoding="utf-8")
    assert text.startswith("# 2025年松江区政务公开工作要点推进情况（截至2025年7月）\n")
    assert check_figures(text, report) >= 9
    for st in REPORTABLE:  # the status table
        n = report.summary.to_json()["tasks"][st.value]
        assert re.search(rf"^\| {st.value} \| {n} \| ", text, re.M)


def test_docx_figures_equal_summary(rendered, report):
    text = docx_text(rendered["docx"])
    assert text.startswith("2025年松江区政务公开工作要点推进情况（截至2025年7月）\n")
    assert check_figures(text, report) >= 9


def test_html_figures_equal_summary(rendered, report):
    import html

    raw = rendered["html"].read_text(encoding="utf-8")
    raw = re.sub(r"<tr>", "\n|", re.sub(r"<t[dh][^>]*>", " ", re.sub(r"</t[dh]>", " |", raw)))
    text = html.unescape(re.sub(r"<[^>]+>", "", raw))
    assert check_figures(text, report) >= 9


def test_memo_sections_name_units_deadlines_and_reasons(rendered, report):
    text = rendered["md"].read_text(encoding="utf-8")
    heads = re.findall(r"^## (.+)$", text, re.M)
    # 8 missing and 4 to correct: too many to name in the body, so they go to an 附件
    assert heads == ["一、总体情况", "二、分类推进情况", "三、工作亮点", "四、逾期及滞后事项",
                     "五、存在问题", "六、下步工作建议", "附件"]
    assert "\n---\n\n## 附件\n\n### 未报送单位和需修改单位名单\n" in text
    # Task 9 (4月) is overdue in July: first in the late-task table, with the units that gave
    # a reason counted as the workbook's 逾期滞后 sheet lists them (not done, a real problem).
    t9 = next(t for t in report.tasks if t.task.no == 9)
    behind = [e.unit for e in report.entries if e.task_no == 9 and e.status is BEHIND]
    first = behind[0] if behind else t9.missing_units[0]
    named = len(behind) + len(t9.missing_units)  # behind, and missing: all it waits on
    kinds = "、".join(x for x in (f"滞后{len(behind)}家" if behind else "",
                                   f"未报送{len(t9.missing_units)}家" if t9.missing_units else "")
                      if x)
    assert re.search(rf"^\| 9 \| 提升全区各级行政机关政策解读的质量和水平…… \| 4月 \| 逾期 \| "
                     rf"{first}等{named}家（{kinds}）：{first}反映：", text, re.M)
    # Highlights: newly completed tasks 5 and 10 (on track last month), and two quoted notes.
    assert "本月新增完成任务2项（序号5、10）。" in text
    assert re.search(r"^- 序号5：依托全市统一的政策发布平台和查询门户……（区政府各部门、各街镇）。$", text, re.M)
    assert re.search(r"^较有代表性的进展有：\S+?“[^”]{12,}”（序号\d+）；\S+?“[^”]{12,}”（序号\d+）。$",
                     text, re.M)
    # Next steps: overdue urged, upcoming deadline (task 18, 2025-08-15), reminders, fixes.
    assert "对逾期任务（序号9）发函督办" in text and "序号18（2025年8月15日）" in text
    assert re.search(r"提醒未报送的\d+家单位尽快补报；退回\d+家单位的填报表", text)


def test_notice_lists_missing_units_with_contacts_and_forms_to_fix(rendered, report):
    text = rendered["notice"].read_text(encoding="utf-8")
    s = report.summary.to_json()
    missing, fix = s["units"]["missing"], s["units"]["needs_fix"]
    # Due on 5 August, issued on the 8th: three days late, said once and per missing unit.
    assert "报送截止日期为2025年8月5日，现已逾期3天。" in text
    assert f"\n一、未报送单位（{len(missing)}家）\n" in text
    assert f"\n二、需修改后重新报送的单位（{len(fix)}家）\n" in text
    listed = re.findall(r"^\d+\. (\S+)（联系人：(.*)；电话：(.*)），已逾期3天$", text, re.M)
    assert [n for n, _, _ in listed] == missing
    assert listed[0][1:] == ("张三", "021-5778 0000")
    assert all(c == p == "名录未登记" for _, c, p in listed[1:])
    fixes = re.findall(r"^\d+\. (\S+)：发现错误(\d+)处，(请按退回文件|请按下列问题修改原报送文件)“(.+?)”",
                       text, re.M)
    errors = {u.unit.name: u.errors for u in report.units}
    assert [(n, int(e)) for n, e, _, _ in fixes] == [(n, errors[n]) for n in fix]
    # The file to send back, by its name only (never a folder of the office's workspace).
    assert [(kind, f) for _, _, kind, f in fixes[:-1]] == [
        ("请按退回文件", f"{n}.xlsx") for n, *_ in fixes[:-1]]
    assert fixes[-1][2:] == ("请按下列问题修改原报送文件", f"{fixes[-1][0]}.xlsx")
    assert "退回修改/" not in text and "0家" not in text
    assert "D7：完成状态“差不多”无法识别" in text
    assert "#" not in text  # plain text for pasting into a messaging or OA system
    assert text.rstrip().endswith("区政府办公室\n2025年8月8日")
    assert "（区政府办公室 王五 57771234）" in text


def test_notice_when_everyone_reported_cleanly(plan, tmp_path):
    r = make_report(plan)
    r = rebuild(r, units=tuple(replace(u, state=SubmissionState.SUBMITTED, errors=0) for u in r.units),
                problems=())
    text = render_notice(r, tmp_path).read_text(encoding="utf-8")
    assert "各单位均已报送，填报表均无需修改" in text and "未报送单位" not in text


def test_without_previous_period_no_month_over_month(plan, tmp_path):
    r = make_report(plan, previous=False)
    md, _, docx = render_memo(r, tmp_path)
    for text in (md.read_text(encoding="utf-8"), docx_text(docx)):
        check_figures(text, r)
        assert "本月新增完成" not in text


# ---------------------------------------------------------------- templates


def test_unit_text_with_markup_is_data_in_every_format(rendered):
    md = rendered["md"].read_text(encoding="utf-8")
    html = rendered["html"].read_text(encoding="utf-8")
    docx = docx_text(rendered["docx"])
    # Quoted as written (存在问题), never run as a template; in Markdown its markup escaped,
    # so a viewer shows the characters instead of running or formatting them.
    escaped = md_escape(EVIL)
    assert f"“{EVIL}”" in docx
    assert f"“{escaped}”" in md and not re.search(r"(?<!\\)<script", md)
    assert "<script" not in html and "{{ 7*7 }}" in html and "{% if %}" in html
    assert html.count("&lt;script&gt;x()&lt;/script&gt;{{ 7*7 }}{% if %}") == md.count(escaped)
    assert "\\<script\\>x()\\</script\\>{{ 7\\*7 }}" in md  # the late-task table's reason too


def test_html_is_self_contained_with_a_status_chart(rendered):
    html = rendered["html"].read_text(encoding="utf-8")
    assert "@page { size: A4" in html and "<svg" in html
    assert not re.search(r"\b(src|href)=|<link|<script|url\(|@import", html)
    for colour in (Colour.GREEN, Colour.YELLOW, Colour.RED):
        assert f'fill="{COLOUR_HEX[colour]}"' in html


def _template_problem(render, report, tmp_path, name, text):
    templates = tmp_path / "templates"
    templates.mkdir(exist_ok=True)
    (templates / name).write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(GkreportError) as exc:
        render(report, out, templates=templates)
    assert not out.exists() or not list(out.iterdir())  # nothing half-written
    (p,) = exc.value.problems
    assert p.code == "template-error" and p.is_error
    return p


@pytest.mark.parametrize(("name", "text", "message"), [
    ("memo.md.j2", "# {{ titel }}\n", "模板 memo.md.j2 第 1 行：变量 titel 未定义"),
    ("memo.html.j2", "<p>\n{{ overview.senten }}</p>\n", "模板 memo.html.j2 第 2 行：变量没有属性 senten"),
    ("notice.md.j2", "一\n二\n{% if %}\n", "模板 notice.md.j2 第 3 行：语法错误（"),
    ("notice.md.j2", "{% for x in overview.total %}{% endfor %}\n",
     "模板 notice.md.j2 第 1 行：无法渲染（TypeError："),
])
def test_a_template_typo_is_a_chinese_problem_and_writes_nothing(report, tmp_path, name, text,
                                                                 message):
    p = _template_problem(render_all, report, tmp_path, name, text)
    assert p.message.startswith(message), p.message
    assert str(tmp_path / "templates" / name) in p.fix
    if name.startswith("memo"):
        _template_problem(render_memo, report, tmp_path, name, text)


def test_render_all_writes_memo_and_notice(report, tmp_path):
    paths = render_all(report, tmp_path / "out")
    assert [p.name for p in paths] == ["简报_2025-07.md", "简报_2025-07.html", "简报_2025-07.docx",
                                       "催报通知_2025-07.md"]
    again = render_memo(report, tmp_path / "again") + [render_notice(report, tmp_path / "again")]
    for a, b in zip(paths, again, strict=True):
        if a.suffix != ".docx":
            assert a.read_text(encoding="utf-8") == b.read_text(encoding="utf-8")
    assert docx_text(paths[2]) == docx_text(again[2])


def test_workspace_template_overrides_the_bundled_one(report, tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "notice.md.j2").write_text("自定义：{{ title }}，{{ overview.units.missing }}家\n",
                                            encoding="utf-8")
    md, *_ = render_memo(report, tmp_path / "out", templates=templates)
    notice = render_notice(report, tmp_path / "out", templates=templates)
    n = len(report.summary.to_json()["units"]["missing"])
    assert notice.read_text(encoding="utf-8") == f"自定义：{memo_context(report)['title']}，{n}家\n"
    assert md.read_text(encoding="utf-8").startswith("# 2025年")  # bundled memo still used


# ---------------------------------------------------------------- Word layout


def test_docx_page_fonts_and_tables_follow_gbt9704(rendered):
    from docx import Document
    from docx.shared import Mm, Pt

    doc = Document(str(rendered["docx"]))
    sec = doc.sections[0]
    # Word stores twips: compare to a tenth of a millimetre.
    assert [round(x.mm, 1) for x in (sec.page_width, sec.page_height)] == [210, 297]
    assert [round(x.mm, 1) for x in (sec.top_margin, sec.bottom_margin, sec.left_margin,
                                     sec.right_margin)] == [37, 35, 28, 26]
    normal = doc.styles["Normal"]
    assert normal.element.rPr.rFonts.get(f"{W}eastAsia") == "仿宋_GB2312"
    assert normal.font.size == Pt(16)

    runs = [r for p in doc.paragraphs for r in p.runs]
    runs += [r for t in doc.tables for row in t.rows for c in row.cells
             for p in c.paragraphs for r in p.runs]
    runs += [r for f in (sec.footer, sec.even_page_footer) for p in f.paragraphs for r in p.runs]
    fonts = {r._element.rPr.rFonts.get(f"{W}eastAsia") for r in runs}
    assert None not in fonts
    assert fonts == {"方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312", "宋体"}
    title = doc.paragraphs[0]
    assert title.runs[0].font.size == Pt(22)
    assert title.runs[0]._element.rPr.rFonts.get(f"{W}eastAsia") == "方正小标宋简体"
    heads = [p for p in doc.paragraphs if p.runs and p.runs[0]._element.rPr.rFonts.get(
        f"{W}eastAsia") == "黑体"]
    assert [p.text for p in heads][:2] == ["一、总体情况", "二、分类推进情况"]
    assert all(p.runs[0].font.size == Pt(16) for p in heads)
    body = doc.paragraphs[3]
    assert body.paragraph_format.line_spacing == Pt(28.95)
    assert body.paragraph_format.first_line_indent == Pt(32)

    footer = sec.footer._element.xml
    assert "PAGE" in footer and "— " in sec.footer.paragraphs[0].text

    assert len(doc.tables) == 2
    for table in doc.tables:
        layout = table._tbl.tblPr.find(f"{W}tblLayout")
        assert layout is not None and layout.get(f"{W}type") == "fixed"
        grid = [int(g.get(f"{W}w")) for g in table._tbl.tblGrid.findall(f"{W}gridCol")]
        assert abs(sum(grid) - Mm(156).twips) < 10
        for row in table.rows:
            widths = [int(tc.tcPr.tcW.get(f"{W}w")) for tc in row._tr.tc_lst]
            assert widths == grid
    props = doc.core_properties
    created = datetime(2025, 7, 31, tzinfo=UTC)
    assert props.created.replace(tzinfo=UTC) == props.modified.replace(tzinfo=UTC) == created
    assert props.title == "2025年松江区政务公开工作要点推进情况（截至2025年7月）"


def test_memo_modules_import_without_python_docx():
    # `gkreport --help` imports the CLI, which must start without loading python-docx
    code = ("import sys, gkreport.render.memo, gkreport.render.memodocx; "
            "assert 'docx' not in sys.modules, sorted(m for m in sys.modules if 'docx' in m)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_docx_is_deterministic_in_content(report, rendered, tmp_path):
    import zipfile

    again = render_memo(report, tmp_path, annotated={n: Path(n + ".xlsx") for n in
                                                     report.summary.to_json()["units"]["needs_fix"][:-1]})
    for name in ("word/document.xml", "word/styles.xml", "docProps/core.xml", "word/footer1.xml"):
        with zipfile.ZipFile(rendered["docx"]) as a, zipfile.ZipFile(again[2]) as b:
            assert a.read(name) == b.read(name), name


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The bundled example consolidated for 2025-05 then 2025-06, through the real pipeline."""
    import json
    import shutil

    from gkreport.workspace import Paths, run_consolidate

    ws = tmp_path_factory.mktemp("ws")
    shutil.copytree(ROOT / "input", ws / "input")
    paths = Paths(ws)
    run_consolidate(paths, Period(2025, 5))
    result = run_consolidate(paths, Period(2025, 6))
    out = paths.period_out(Period(2025, 6))
    return {"report": result.report, "out": out,
            "summary": json.loads((out / "summary.json").read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def memo_pdfs(rendered, bundled, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The hand-built July memo and the bundled June memo as PDF, in one LibreOffice start."""
    docs = [rendered["docx"], bundled["out"] / "简报_2025-06.docx"]
    july, june = convert(docs, "pdf", tmp_path_factory.mktemp("pdf"))
    return {"july": july, "june": june}


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each page (pdftotext separates pages with a form feed)."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    return text.split("\f")[:-1]


@pytest.mark.libreoffice
@needs_lo
def test_docx_converts_to_pdf_with_libreoffice(memo_pdfs):
    for pdf in memo_pdfs.values():
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info), info
        assert 1 <= int(re.search(r"Pages:\s+(\d+)", info).group(1)) <= 6
        text = "".join(pdf_pages(pdf))
        assert "政务公开工作要点推进情况" in text and re.search(r"—\s*1\s*—", text), text


@pytest.mark.libreoffice
@needs_lo
def test_bundled_memo_body_is_at_most_two_pages(memo_pdfs):
    # README: leaders read a one-to-two page memo. June names its 5 units in the body.
    june = pdf_pages(memo_pdfs["june"])
    assert len(june) <= 2, "\n\f".join(june)
    assert "六、下步工作建议" in june[-1] and "附件" not in "".join(june)
    # July's 12 units go to an 附件 that starts a page of its own, after the body
    july = pdf_pages(memo_pdfs["july"])
    assert july[-1].lstrip().startswith("附件") and "未报送单位和需修改单位名单" in july[-1]
    assert not any("附件\n" in page for page in july[:-1])


def test_bundled_example_memo_and_notice_equal_summary_json(bundled):
    report, out, summary = bundled["report"], bundled["out"], bundled["summary"]
    assert summary == json.loads(json.dumps(report.summary.to_json(), ensure_ascii=False))
    assert report.previous_period == Period.parse("2025-05")
    for text in ((out / "简报_2025-06.md").read_text(encoding="utf-8"),
                 docx_text(out / "简报_2025-06.docx")):
        assert check_figures(text, report) >= 9
    notice = (out / "催报通知_2025-06.md").read_text(encoding="utf-8")
    m = re.search(r"一、未报送单位（(\d+)家）[\s\S]*二、需修改后重新报送的单位（(\d+)家）", notice)
    assert tuple(map(int, m.groups())) == (len(summary["units"]["missing"]),
                                           len(summary["units"]["needs_fix"]))
    assert f"报送截止日期为{cn_date(date.fromisoformat(summary['units']['due']))}" in notice
    listed = re.findall(r"^\d+\. (\S+)（联系人：", notice, re.M)
    assert listed == summary["units"]["missing"]
    for name in summary["units"]["needs_fix"]:  # the annotated copy the office forwards
        assert f"{name}：发现错误" in notice
        assert f"请按退回文件“{name}.xlsx”中的批注修改" in notice
        assert (out / "退回修改" / f"{name}.xlsx").exists()


# ---------------------------------------------------------------- a Report consolidate() built


def test_memo_of_a_consolidated_report(plan, tmp_path):
    units = {u: i for i, u in enumerate(plan.expected_units)}
    entries = [Entry(task_no=t.no, unit=u, status=_target(t.no + units[u] % 2),
                     raw_status="", progress=None, note=f"{u}推进任务{t.no}，" * 3,
                     issues="协调难度大" if _target(t.no) is BEHIND else "",
                     next_steps="", file=f"{u}.xlsx", sheet="填报表", row=6, cell="D6")
               for t in plan.tasks for u in t.expected_units if units[u] % 4]
    reported = sorted({e.unit for e in entries})
    subs = tuple(Submission(file=f"{u}.xlsx", unit=u, sha256="0" * 64, size=1,
                            read_at="2025-07-01T09:00:00") for u in reported)
    bad = problem("unknown-status", file=f"{reported[0]}.xlsx", sheet="填报表", cell="D6",
                  unit=reported[0], value="？")
    returns = Returns(period="2025-06", entries=tuple(entries), submissions=subs,
                      problems=(bad,), files=FileCounts(len(subs), len(subs), 0, 0),
                      rows=RowCounts(len(entries), len(entries), 0))
    report = consolidate(plan, returns, Period(2025, 6))
    md, _, docx = render_memo(report, tmp_path)
    notice = render_notice(report, tmp_path)
    for text in (md.read_text(encoding="utf-8"), docx_text(docx)):
        check_figures(text, report)
    s = report.summary.to_json()
    text = notice.read_text(encoding="utf-8")
    assert f"一、未报送单位（{len(s['units']['missing'])}家）" in text
    assert f"二、需修改后重新报送的单位（{len(s['units']['needs_fix'])}家）" in text
    assert "报送截止日期" not in text  # no due date known: nothing said of one
    assert text.count("名录未登记") == 2 * len(s["units"]["missing"])
    # the unit's problem under its line, as a sub-item (not run into the sentence above)
    assert "\n   - 填报表 D6：" in text and "。   - " not in text


def test_registry_contacts_are_shown(plan, tmp_path):
    r = make_report(plan)
    name = r.summary.to_json()["units"]["missing"][1]
    r = rebuild(r, units=tuple(replace(u, unit=Unit(u.unit.name, u.unit.kind, contact="李四"))
                               if u.unit.name == name else u for u in r.units))
    text = render_notice(r, tmp_path).read_text(encoding="utf-8")
    assert f"{name}（联系人：李四；电话：名录未登记）" in text


# ---------------------------------------------------------------- one rule with the workbook


def _issue_figures(text: str) -> tuple[int, int]:
    m = re.search(r"共有(\d+)家单位反映问题(\d+)条", text)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def _workbook_issues(path: Path) -> tuple[int, int]:
    import openpyxl

    rows = list(openpyxl.load_workbook(path)["问题与建议"].iter_rows(min_row=2, values_only=True))
    return len({r[2] for r in rows}), len(rows)


def test_memo_issue_count_equals_the_workbook_issues_sheet(report, rendered, bundled, tmp_path):
    from gkreport.render.workbook import write_workbook

    # hand-built report: every unit that did not fall behind wrote 无
    ours = write_workbook(report, tmp_path / "汇总表.xlsx")
    text = rendered["md"].read_text(encoding="utf-8")
    assert _issue_figures(text) == _workbook_issues(ours) != (0, 0)
    # the bundled example through the real pipeline: units write 无, 暂无, 无问题 …
    out = bundled["out"]
    memo = (out / "简报_2025-06.md").read_text(encoding="utf-8")
    assert _issue_figures(memo) == _workbook_issues(out / "汇总表_2025-06.xlsx")
    assert _issue_figures(docx_text(out / "简报_2025-06.docx")) == _issue_figures(memo)


def test_near_deadline_and_unverified_follow_consolidate(plan, tmp_path):
    # task 18 falls due on the period's last day: blue in the workbook, so listed here too
    r = make_report(plan)
    t18 = next(t for t in r.tasks if t.task.no == 18)
    t18 = replace(t18, task=replace(t18.task, deadline=Deadline("7月底前", date(2025, 7, 31))))
    unverified = replace(next(e for e in r.entries if e.task_no == 1), status=Status.UNVERIFIED)
    t3 = next(t for t in r.tasks if t.task.no == 3)
    t3 = replace(t3, unverified_units=t3.task.expected_units[:2],
                 unverified=t3.task.expected_units[:2])
    t1 = next(t for t in r.tasks if t.task.no == 1)
    t1 = replace(t1, unverified=(unverified.unit,))
    r = rebuild(r, tasks=tuple({18: t18, 3: t3, 1: t1}.get(t.task.no, t) for t in r.tasks),
                entries=tuple(unverified if e.task_no == 1 and e.unit == unverified.unit else e
                              for e in r.entries))
    s = r.summary.to_json()
    assert s["near_deadline"] == [18] and s["unverified"] == {"tasks": 2, "reports": 3}
    md, html, docx = render_memo(r, tmp_path)
    for text in (md.read_text(encoding="utf-8"), docx_text(docx)):
        check_figures(text, r)
        assert "另有1项任务将于30日内到期。2项任务有3条填报待核实" in text
        assert "1项任务将于30日内到期（序号18（2025年7月31日））" in text
    page = html.read_text(encoding="utf-8")
    assert f'fill="{COLOUR_HEX[Colour.BLUE]}"' in page and ">30日内到期<" in page
    assert re.search(r">待核实</text>\s*<rect [^>]*fill=\"#FFE699\"", page)
    assert re.search(r"<text [^>]*>2项 ", page)


def test_memo_status_colours_come_from_the_model():
    from gkreport.core.model import STATUS_HEX
    from gkreport.render import memo, memodocx

    assert memo.STATUS_HEX is STATUS_HEX and memodocx.STATUS_HEX is STATUS_HEX
    assert STATUS_HEX[Status.ON_TRACK] != COLOUR_HEX[Colour.BLUE]  # blue means 临期 only
    assert STATUS_HEX["逾期"] == COLOUR_HEX[Colour.RED]


def test_month_over_month_names_an_older_period(plan, tmp_path):
    r = rebuild(make_report(plan), previous_period=Period(2025, 5))
    text = memo_context(r)["mom"]["sentences"][0]
    assert text.startswith("与上期（2025年5月）相比")
    assert memo_context(make_report(plan))["mom"]["sentences"][0].startswith("与上月相比，")


def test_notice_lists_the_problems_it_counts(plan, tmp_path):
    # a unit's refused older form has errors of its own; the notice counts and lists only
    # the accepted form's, as 报送情况 does
    r = make_report(plan)
    name = r.summary.to_json()["units"]["needs_fix"][0]
    unit = next(u for u in r.units if u.unit.name == name)
    old = problem("form-wrong-period", file=f"{name}-旧.xlsx", unit=name, found="2025-05",
                  period="2025-07")
    r = rebuild(r, problems=(old, *r.problems))
    fix = next(u for u in memo_context(r)["fix_units"] if u["name"] == name)
    assert fix["errors"] == unit.errors == len(fix["problems"]) + fix["more"]
    assert all("2025-05" not in line for line in fix["problems"])
    text = render_notice(r, tmp_path).read_text(encoding="utf-8")
    assert f"{name}：发现错误{unit.errors}处" in text and "2025-05 的填报表" not in text


def test_render_outputs_writes_nothing_until_asked(report, tmp_path):
    out = tmp_path / "out"
    contents = render_outputs(report, out)
    assert not out.exists()
    assert [p.name for p in contents] == ["简报_2025-07.md", "简报_2025-07.html",
                                          "简报_2025-07.docx", "催报通知_2025-07.md"]
    assert isinstance(contents[out / "简报_2025-07.docx"], bytes)
    assert write_outputs(contents) == list(contents) and all(p.exists() for p in contents)


def _late_sheet(path: Path) -> dict[int, dict[str, list[str]]]:
    """Task -> the units the workbook's 逾期滞后 sheet names: 滞后, 未完成, 未报送, 原因."""
    import openpyxl

    ws = openpyxl.load_workbook(path)["逾期滞后"]
    head = [c.value for c in ws[1]]
    out = {}
    for row in ws.iter_rows(min_row=2, values_only=True):
        cells = dict(zip(head, row, strict=True))
        out[row[0]] = {k: (cells[k] or "").split("、") if cells[k] else []
                       for k in ("滞后单位", "未完成单位", "未报送单位")}
        out[row[0]]["原因"] = [line.partition("：")[2] for line in
                             (cells["原因（单位填报的存在问题）"] or "").splitlines()]
    return out


def test_late_table_units_equal_the_workbook_overdue_sheet(report, rendered, bundled, tmp_path):
    """The late-task table names the units each task waits on, counted by why, as the
    workbook's 逾期滞后 sheet lists them; the reason quoted is the first the sheet gives."""
    from gkreport.render.workbook import write_workbook

    cases = [(rendered["md"], write_workbook(report, tmp_path / "汇总表.xlsx")),
             (bundled["out"] / "简报_2025-06.md", bundled["out"] / "汇总表_2025-06.xlsx")]
    for memo, workbook in cases:
        sheet = _late_sheet(workbook)
        rows = re.findall(r"^\| (\d+) \|.*\| (?:逾期|滞后|到期未完成) \| (.*) \|$",
                          memo.read_text(encoding="utf-8"), re.M)
        assert rows
        for no, cell in rows:
            listed = sheet[int(no)]
            names = listed["滞后单位"] + listed["未完成单位"] + listed["未报送单位"]
            who, _, reason = re.sub(r"\\(.)", r"\1", cell).partition("：")  # Markdown unescaped
            m = re.match(r"([^等（]+)(?:等(\d+)家)?(?:（(.*)）)?$", who)
            assert m, cell
            assert (m.group(1), int(m.group(2) or 1)) == (names[0], len(names)), (no, cell)
            kinds = {k: len(listed[f"{k}单位"]) for k in ("滞后", "未完成", "未报送")}
            said = dict(re.findall(r"(滞后|未完成|未报送)(\d+)家", m.group(3) or ""))
            assert {k: int(v) for k, v in said.items()} == {k: n for k, n in kinds.items()
                                                            if n and m.group(3)}, (no, cell)
            if listed["原因"]:  # the first reason, whole or cut at a clause
                assert listed["原因"][0].startswith(reason.removesuffix("……")), (no, cell)
            else:
                assert reason == "未说明原因", (no, cell)


def test_excerpts_end_at_a_clause_outside_quotes():
    from gkreport.render.wording import excerpt as _excerpt
    from gkreport.render.wording import fit as _fit
    from gkreport.render.wording import quoted as _quoted
    from gkreport.render.wording import units_short as _units_short

    note = "聚焦“加强政策解读，质量把关”，召开专题推进会1次，组织业务培训2场、参训86人次，任务已完成并形成工作台账。"
    assert _excerpt(note, 45) == "聚焦“加强政策解读，质量把关”，召开专题推进会1次，组织业务培训2场、参训86人次……"
    assert _excerpt(note, 40) == "聚焦“加强政策解读，质量把关”，召开专题推进会1次……"
    assert _excerpt(note, 25) == "聚焦“加强政策解读，质量把关”……"
    assert _excerpt(note, 14) == "聚焦“加强政策解读，质量把关……”"  # no clause ends outside the quote
    assert _excerpt(note, 200) == note and _fit(note, len(note)) == note
    assert len(_fit(note, 20)) <= 20
    assert _quoted("围绕“政策解读”开展工作。") == "围绕‘政策解读’开展工作"  # 。 ends the sentence outside
    assert _quoted("需协调……") == "需协调……"
    assert _units_short("区政府办公室、各有关单位、各街镇", 10) == "区政府办公室等"
    assert _units_short("区政府各部门、各街镇", 10) == "区政府各部门、各街镇"
    assert _units_short("区人力资源社会保障局牵头", 10) == "区人力资源社会保……"


def test_memo_lists_are_capped_and_the_rest_counted(plan):
    from gkreport.render.memo import MAX_ISSUES, MAX_QUOTE_CHARS, MAX_QUOTES

    ctx = memo_context(make_report(plan))
    hl, iss = ctx["highlights"], ctx["issues"]
    assert len(hl["quotes"]) == MAX_QUOTES
    assert all(len(q["text"]) <= MAX_QUOTE_CHARS + 2 for q in hl["quotes"])  # + ……
    assert len({q["unit"] for q in hl["quotes"]}) == len({q["task_no"] for q in hl["quotes"]}) == 2
    assert len(iss["points"]) == MAX_ISSUES and len({p["unit"] for p in iss["points"]}) == 2
    assert iss["more"] == "全部问题见汇总表“问题与建议”。"
    # every late task is in the context, the table shows a few, the rest are numbered
    late = [t.task.no for t in make_report(plan).tasks if t.overdue or t.status is BEHIND]
    assert sorted(d["no"] for d in ctx["delays"]) == late
    assert len(ctx["delay_rows"]) == MAX_DELAY_ROWS < len(late)
    assert ctx["delays_more"].startswith(f"另有滞后{len(late) - MAX_DELAY_ROWS}项（序号")


def test_a_late_task_without_reasons_names_its_units(plan):
    r = make_report(plan)
    r = rebuild(r, entries=tuple(replace(e, issues="无") if e.task_no == 9 else e
                                 for e in r.entries))
    row = next(d for d in memo_context(r)["delay_rows"] if d["no"] == 9)
    t9 = next(t for t in r.tasks if t.task.no == 9)
    behind = [e.unit for e in r.entries if e.task_no == 9 and e.status is BEHIND]
    waiting = behind + list(t9.missing_units)
    expected = (f"{waiting[0]}等{len(waiting)}家（滞后{len(behind)}家、"
                f"未报送{len(t9.missing_units)}家）：未说明原因")
    assert (row["reason_short"], row["reasons_count"]) == (expected, 0)


def test_carried_reports_are_counted_alike_in_memo_workbook_and_summary(bundled):
    """June's three missing units carry May's reports: the memo says how many, as the
    workbook's 总览 and summary.json do, and the detail sheet marks each one."""
    import openpyxl

    report, out, summary = bundled["report"], bundled["out"], bundled["summary"]
    may = {(e.task_no, e.unit) for e in report.entries if e.carried_from == Period(2025, 5)}
    missing = set(summary["units"]["missing"])
    assert {u for _, u in may} == missing  # only June's missing units, only from May
    # each of them reported every task in May (May's missing units were others)
    assert summary["rows"]["carried"] == len(may) == sum(
        len(report.plan.tasks_for(u)) for u in missing)
    book = openpyxl.load_workbook(out / "汇总表_2025-06.xlsx")
    figures = {r[0]: r[1] for r in book["总览"].iter_rows(values_only=True) if r[0]}
    assert figures["沿用上期的填报（条）"] == len(may)
    marked = [r for r in book["单位填报明细"].iter_rows(values_only=True)
              if r[9] == "沿用上期（2025-05）"]
    assert {(r[0], r[2]) for r in marked} == may
    for text in ((out / "简报_2025-06.md").read_text(encoding="utf-8"),
                 docx_text(out / "简报_2025-06.docx")):
        m = re.search(r"以上含未报送单位沿用上期的填报(\d+)条", text.replace(" ", ""))
        assert m and int(m.group(1)) == len(may)

"""The plan's rules: deadlines, header names, unit lists, and resolving tasks into a Plan.

`build_plan` resolves raw task rows against the registry into a `Plan`. The task-table
reader (table.py), the importers, the plan workbook (book.py) and the form reader share
these pieces. Matching folds traditional characters to simplified (fold.py).
"""

from __future__ import annotations

import calendar
import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime

from gkreport.core.model import Collective, Deadline, Plan, Task, Unit, UnitKind
from gkreport.core.problems import Problem, problem
from gkreport.core.text import clean, fold, nfkc, squash, unit_key
from gkreport.plan.unitphrases import bracket_parts, parse_units

TASK_SHEET = "任务分解表"
COLLECTIVE_SHEET = "集合名称"

# Canonical column -> accepted header names (compared without whitespace, folded to
# simplified). "lead" precedes "units" so a table with both 牵头单位 and 责任单位 columns
# keeps both. A "requirement" column (具体要求) next to a "text" column (工作任务) is the task
# text, and the short one becomes a category level ("heading"). "progress" columns belong
# to progress reports, not plans; "note" columns are known and ignored.
TASK_HEADERS: dict[str, tuple[str, ...]] = {
    "no": ("序号", "编号", "序"),
    "category": ("一级指标", "工作类别", "任务类别", "类别", "分类", "工作板块", "工作领域",
                 "重点领域", "领域", "板块", "项目类别", "工作分类"),
    "text": ("二级指标", "工作任务", "具体任务", "任务内容", "主要任务", "工作要点", "具体工作",
             "任务", "重点任务", "目标", "工作目标", "任务名称", "重点工作", "工作事项",
             "目标任务"),
    "requirement": ("具体要求", "工作要求", "目标和要求", "目标要求", "具体内容", "主要内容",
                    "工作内容", "任务要求", "工作措施", "具体措施", "主要措施", "推进措施",
                    "工作举措", "具体举措", "任务描述"),
    "lead": ("牵头单位", "牵头部门", "牵头科室", "牵头处室"),
    "units": ("责任单位", "责任部门", "主责单位", "承办单位", "实施单位", "责任科室", "负责科室",
              "责任处室", "负责处室", "负责部门", "负责单位", "主责部门", "责任主体", "落实单位",
              "责任股室"),
    "partners": ("配合单位", "协办单位", "配合部门", "参与单位", "配合科室", "配合处室",
                 "协同单位", "协助单位"),
    "deadline": ("时间节点", "完成时限", "完成时间", "时限要求", "时限", "完成期限", "时间安排",
                 "时间要求", "完成节点", "完成日期", "办结时限", "进度安排", "时间进度"),
    "progress": ("完成情况", "进展情况", "推进情况", "工作进展", "进展", "完成进度", "完成比例",
                 "进度", "完成状态", "落实情况", "完成率", "工作完成情况", "目前进展"),
    "note": ("备注", "说明"),
}
COLUMN_LABELS = {"no": "序号", "category": "一级指标", "text": "二级指标", "units": "责任单位",
                 "lead": "牵头单位", "partners": "配合单位", "deadline": "时间节点"}

UNIT_SPLIT = re.compile(r"[、，,；;\s\u3000]+")
# "一、" / "二." numbering in front of a category, stripped so every source names it alike.
CATEGORY_NUMBER = re.compile(r"^[一二三四五六七八九十]+\s*[、.．]\s*")


# ---------------------------------------------------------------- deadlines

_ONGOING = frozenset({"长期坚持", "长期", "持续推进", "持续", "常态化", "长期推进", "持续开展",
                      "常态化推进", "长期开展", "长期有效", "持续坚持"})
_YEAR_END = frozenset({"全年", "年内", "年底", "年末", "下半年", "全年推进", "全年持续", "年度内",
                       "本年度", "底", "末"})
_QUARTERS = {"一": 3, "1": 3, "二": 6, "2": 6, "三": 9, "3": 9, "四": 12, "4": 12}


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def parse_deadline(value: object, year: int) -> Deadline:
    """Turn a 时间节点 into a date in the plan year; raise ValueError when unknown.

    全年/年内/年底前/下半年 -> Dec 31; 4月/4月底前 -> Apr 30; 6月10日前 -> Jun 10;
    上半年 -> Jun 30; 第三季度 -> Sep 30; 2025年9月 -> Sep 30 of 2025; an Excel date
    cell -> that date; 长期/持续推进/长期坚持 -> no date (never overdue).

    >>> parse_deadline("6月底前", 2025).date
    datetime.date(2025, 6, 30)
    >>> parse_deadline("长期坚持", 2025).date is None
    True
    """
    if isinstance(value, datetime):
        return Deadline(value.date().isoformat(), value.date())
    if isinstance(value, date):
        return Deadline(value.isoformat(), value)
    text = clean(value)
    s = fold(squash(nfkc(text))).rstrip("。.;；,，")
    if not s:
        raise ValueError("时间节点为空")
    if s in _ONGOING:
        return Deadline(text, None)
    # "前" / "之前" / "完成" only say "by": 6月底前 = 6月底 = 6月.
    s = re.sub(r"(之前|以前|前|完成|前完成)$", "", s) or s
    if s in _ONGOING:
        return Deadline(text, None)
    y = year
    m = re.fullmatch(r"(\d{4})年?(.*)", s)
    if m and (m.group(2) == "" or "年" in s[:5]):
        y, s = int(m.group(1)), m.group(2) or "年底"
    if s in _YEAR_END:
        return Deadline(text, date(y, 12, 31))
    if s == "上半年":
        return Deadline(text, date(y, 6, 30))
    m = re.fullmatch(r"第?([一二三四1-4])季度(末|底)?", s)
    if m:
        return Deadline(text, _month_end(y, _QUARTERS[m.group(1)]))
    m = re.fullmatch(r"(\d{1,2})月(\d{1,2})[日号]", s)
    if m and 1 <= int(m.group(1)) <= 12:
        return Deadline(text, date(y, int(m.group(1)), int(m.group(2))))  # ValueError if 2月30日
    m = re.fullmatch(r"(\d{1,2})月(底|末|份|上旬|中旬|下旬)?", s)
    if m and 1 <= int(m.group(1)) <= 12:
        # 上旬/中旬 end on the 10th/20th; the rest mean the month's last day.
        day = {"上旬": 10, "中旬": 20}.get(m.group(2) or "")
        month = int(m.group(1))
        return Deadline(text, date(y, month, day) if day else _month_end(y, month))
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", s)
    if m:
        return Deadline(text, date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    raise ValueError(f"无法识别的时间节点：{text}")


# ---------------------------------------------------------------- raw rows


@dataclass(frozen=True, slots=True)
class RawTask:
    """A task row as found in a document, before units and deadline are resolved."""

    no: int
    category: str
    text: str
    units_text: str
    deadline: object  # text or date; None when the document has no deadline column
    row: int  # 1-based row (or line / paragraph) number in the source, for problems


@dataclass(frozen=True, slots=True)
class TaskTable:
    """The task rows found in one source, its title line, and what was odd about it.

    `header` is the header row as written (for a refusal that says what was found);
    `year` is a year the source's text names, when its title names none.
    """

    title: str
    tasks: tuple[RawTask, ...]
    problems: tuple[Problem, ...]
    header: tuple[str, ...] = ()
    year: int | None = None


_LINE_BREAK = re.compile(r"[ \t\u3000]*[\r\n]+[ \t\u3000]*")
_ASCII_WORD = re.compile(r"[A-Za-z0-9]")


def clean_text(value: object) -> str:
    """Cell text for task texts and categories: a line break inside Chinese text is dropped.

    Word and PDF exports wrap long cells; a space there would change the task text. Only
    between two ASCII letters or digits does a break become a space.
    """
    if isinstance(value, str) and ("\n" in value or "\r" in value):
        def join(m: re.Match[str]) -> str:
            before = value[m.start() - 1] if m.start() else ""
            after = value[m.end()] if m.end() < len(value) else ""
            return " " if _ASCII_WORD.match(before) and _ASCII_WORD.match(after) else ""
        value = _LINE_BREAK.sub(join, value)
    return clean(value)


def category_name(value: object) -> str:
    """A category as written, without its "一、" numbering."""
    return CATEGORY_NUMBER.sub("", clean_text(value))


def match_header(cells: list[object], synonyms: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Map canonical column keys to column indexes for one candidate header row."""
    names = [fold(squash(nfkc(clean(c)))) if c is not None else "" for c in cells]
    if not any(names):
        return {}
    exact, anywhere = _synonym_index(synonyms)
    found: dict[str, int] = {}
    used: set[int] = set()
    for i, name in enumerate(names):
        key = exact.get(name)
        if key and key not in found and i not in used:
            found[key] = i
            used.add(i)
    # Then headers that start with a synonym ("责任单位（牵头）"), then short headers that
    # contain one ("具体工作任务"); long cells (titles, task texts) never match so. A cell
    # holding no synonym at all is passed over at once.
    candidates = [(i, name) for i, name in enumerate(names)
                  if name and i not in used and len(name) <= 30 and anywhere.search(name)]
    tests = (lambda name, n: name.startswith(n), lambda name, n: len(name) <= 8 and n in name)
    for test in tests:
        for i, name in candidates:
            if len(found) == len(synonyms) or i in used:
                continue
            for key, options in synonyms.items():
                if key not in found and any(test(name, n) for n in options):
                    found[key] = i
                    used.add(i)
                    break
    return found


_INDEX: dict[int, tuple[dict[str, str], re.Pattern[str]]] = {}


def _synonym_index(synonyms: dict[str, tuple[str, ...]]) -> tuple[dict[str, str], re.Pattern[str]]:
    """synonym -> key (the first key winning), and a regex finding any synonym in a cell;
    cached per synonym table (they are module constants)."""
    cached = _INDEX.get(id(synonyms))
    if cached is None:
        exact: dict[str, str] = {}
        for key, options in synonyms.items():
            for n in options:
                exact.setdefault(n, key)
        anywhere = re.compile("|".join(re.escape(n) for n in sorted(exact, key=len, reverse=True)))
        cached = _INDEX[id(synonyms)] = (exact, anywhere)
    return cached


def find_header(rows: list[list[object]], synonyms: dict[str, tuple[str, ...]],
                required: tuple[str, ...], *, scan: int = 30) -> tuple[int, dict[str, int]] | None:
    """The first row (within `scan`) whose cells name all `required` columns.

    When none does, returns (-1 - r, columns) for the row r naming most columns (at
    least two), so the caller can say which column is missing; None when no row looks
    like a header at all.
    """
    best: tuple[int, dict[str, int]] | None = None
    for r, cells in enumerate(rows[:scan]):
        cols = match_header(cells, synonyms)
        if all(k in cols for k in required):
            return r, cols
        if len(cols) >= 2 and (best is None or len(cols) > len(best[1])):
            best = (r, cols)
    return None if best is None else (-1 - best[0], best[1])


def join_units(lead: str, units: str, partners: str) -> str:
    """Join 牵头单位, 责任单位 and 配合单位 into one list, the lead first and not repeated."""
    if lead and units and unit_key(units).startswith(unit_key(lead)):
        lead = ""  # 牵头单位 A, 责任单位 "A、B": the responsible list already leads with A
    return "、".join(p for p in (lead, units, partners) if p)


_TITLE_WORDS = ("要点", "任务分解", "清单", "方案", "计划", "任务表", "分解表")
# A web page's own lines: address, site navigation, publication data, page tools.
_PAGE_LINE = re.compile(r"https?:|www\.|\.(cn|com|gov)\b|首页|当前位置|您的位置|>|»|›|发布时间|"
                        r"发布日期|来源[:：]|字号|打印|关闭|浏览次数|分享")


def title_line(text: str) -> bool:
    """Whether a line can be a plan's title (not a sentence, not the page's own lines)."""
    s = fold(clean(text))
    return (bool(s) and len(s) <= 60 and not _PAGE_LINE.search(s)
            and not s.endswith(("。", "；", ";", "：", ":")))


def table_title(cells: list[object]) -> str:
    """The title among the cells above a table, nearest the table first.

    A line naming the kind of document (要点 / 任务分解 / 清单 / 方案 …) wins, else one
    naming a year; web-page lines (addresses, navigation, dates), "附件" labels, page
    numbers and sentences are never titles. "" when nothing qualifies.
    """
    texts = [clean_text(c) for c in cells if clean(c)]
    texts = [t for t in reversed(list(dict.fromkeys(texts))) if title_line(t)
             and not re.fullmatch(r"附件\s*\d*[:：]?|[-—–]?\s*\d+\s*[-—–]?", t)
             and not re.fullmatch(r"\d{4}\s*年\s*\d{1,2}\s*月(\s*\d{1,2}\s*日)?", nfkc(t))]
    texts = [re.sub(r"^附件\s*\d*\s*[:：]\s*", "", t) for t in texts]
    return next((t for t in texts if any(w in fold(t) for w in _TITLE_WORDS)),
                next((t for t in texts if year_from_title(t)), ""))


def text_year(texts: list[str]) -> int | None:
    """The year a document's text names most often (the later one on a tie), or None."""
    counts: dict[int, int] = {}
    for t in texts:
        for m in re.finditer(r"(20\d{2})\s*年", nfkc(t)):
            counts[int(m.group(1))] = counts.get(int(m.group(1)), 0) + 1
    return max(counts, key=lambda y: (counts[y], y)) if counts else None


# ---------------------------------------------------------------- units


def unit_kind(text: str) -> UnitKind | None:
    """The UnitKind a 类别 cell names, or None."""
    for k in UnitKind:
        if squash(text) == k.value:
            return k
    return None


def build_collectives(rows: list[tuple[str, str]], units: tuple[Unit, ...], *, file: str = "",
                      ) -> tuple[tuple[Collective, ...], list[Problem]]:
    """Resolve 集合名称 rules: 类别=街镇, 开放, or an explicit list of unit names."""
    out: list[Collective] = []
    problems: list[Problem] = []
    lookup = _name_lookup(units)
    for name, rule in rows:
        r = squash(nfkc(rule))
        m = re.fullmatch(r"类别[=:](.+)", r)
        if r in ("开放", "不限", "任意"):
            out.append(Collective(name, rule, (), open=True))
        elif m and unit_kind(m.group(1)):
            kind = unit_kind(m.group(1))
            out.append(Collective(name, rule, tuple(u.name for u in units if u.kind == kind)))
        else:
            names = [n for n in UNIT_SPLIT.split(rule) if n]
            members = [lookup[unit_key(n)] for n in names if unit_key(n) in lookup]
            if not names or len(members) != len(names):
                problems.append(problem("plan-bad-collective", file=file, sheet=COLLECTIVE_SHEET,
                                        name=name, rule=rule))
            out.append(Collective(name, rule, tuple(members)))
    return tuple(out), problems


def _name_lookup(units: tuple[Unit, ...]) -> dict[str, str]:
    """Name/alias key -> unit name; remembered for the last registry (every task asks)."""
    if _LOOKUP and _LOOKUP[0][0] is units:
        return _LOOKUP[0][1]
    lookup = _build_lookup(units)
    _LOOKUP[:] = [(units, lookup)]
    return lookup


_LOOKUP: list[tuple[tuple[Unit, ...], dict[str, str]]] = []


def _build_lookup(units: tuple[Unit, ...]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for u in units:
        for a in u.aliases:
            lookup.setdefault(unit_key(a), u.name)
    for u in units:
        lookup[unit_key(u.name)] = u.name
    return lookup


def suggest_unit(name: str, units: tuple[Unit, ...], collectives: tuple[Collective, ...] = (),
                 ) -> str:
    """The registered name closest to an unknown one ("" when nothing is close)."""
    lookup = _name_lookup(units)
    key = unit_key(name)
    # 松江区财政局 -> 区财政局: a registered name inside the unknown one, or the reverse.
    inside = [k for k in lookup if len(k) >= 3 and (k in key or key in k)]
    if inside:
        return lookup[max(inside, key=len)]
    choices = list(lookup) + [unit_key(c.name) for c in collectives]
    close = difflib.get_close_matches(key, choices, n=1, cutoff=0.6)
    if not close:
        return ""
    names = {unit_key(c.name): c.name for c in collectives}
    return lookup.get(close[0]) or names.get(close[0], close[0])


@dataclass(frozen=True, slots=True)
class Resolved:
    """A 责任单位 cell resolved against the registry."""

    named: tuple[str, ...]  # registered units named explicitly, in the order written
    expected: tuple[str, ...]  # named units, then members of collective terms
    lead: str  # the unit marked 牵头, else the first unit or term written
    open: bool  # an open term (各有关单位): any registered unit may report
    unknown: tuple[tuple[str, str], ...]  # (name as written, suggestion hint)
    tail: str = ""  # "等相关部门" cut from the end of the cell


def _match_entry(name: str, lookup: dict[str, str], coll: dict[str, Collective],
                 ) -> list[str | Collective]:
    """What an entry names: a unit, a collective term, or for "A（B）" whatever the
    registry says (A's second name, or two units); [] when unknown."""
    key = unit_key(name)
    if key in lookup:
        return [lookup[key]]
    if key in coll:
        return [coll[key]]
    parts = bracket_parts(name)
    if parts:
        found = [m for p in parts for m in _match_entry(p, lookup, coll)]
        return list(dict.fromkeys(found))
    if key.endswith("等") and len(key) > 1:
        return _match_entry(key[:-1], lookup, coll)
    return []


def resolve_phrase(text: str, units: tuple[Unit, ...], collectives: tuple[Collective, ...],
                   ) -> Resolved:
    """Resolve a 责任单位 cell (a list or a phrase such as "A牵头，B配合").

    Named units come first in the order written, then the members of collective terms in
    registry order. The lead is the unit or term marked 牵头 (or （牵头）), else the first
    written. An open term (各有关单位) adds no expected unit but sets `open`.
    """
    lookup = _name_lookup(units)
    coll = {unit_key(c.name): c for c in collectives}
    phrase = parse_units(text)
    named: list[str] = []
    expected: list[str] = []
    unknown: list[tuple[str, str]] = []
    first = marked = ""
    is_open = False
    for entry in phrase.entries:
        found = _match_entry(entry.name, lookup, coll)
        for m in found:
            if isinstance(m, Collective):
                is_open = is_open or m.open
                expected.extend(m.members)
            else:
                named.append(m)
        if not found:
            hint = suggest_unit(entry.name, units, collectives)
            unknown.append((entry.name, f"，是否为“{hint}”？" if hint else ""))
        label = (found[0].name if isinstance(found[0], Collective) else found[0]) if found \
            else entry.name
        first = first or label
        if entry.lead:
            marked = marked or label
    order = {u.name: i for i, u in enumerate(units)}
    named_set = tuple(dict.fromkeys(named))
    rest = sorted(set(expected) - set(named_set), key=lambda n: order.get(n, 10**6))
    return Resolved(named_set, named_set + tuple(rest), marked or first, is_open,
                    tuple(unknown), phrase.tail)


def resolve_units(text: str, units: tuple[Unit, ...], collectives: tuple[Collective, ...],
                  ) -> tuple[list[str], list[str], str, bool, list[tuple[str, str]]]:
    """resolve_phrase as a tuple: (named units, expected units, lead, open, unknown + hint)."""
    r = resolve_phrase(text, units, collectives)
    return list(r.named), list(r.expected), r.lead, r.open, list(r.unknown)


def _rows_text(rows: list[int]) -> str:
    shown = "、".join(str(r) for r in rows[:10])
    return shown + (f" 等 {len(rows)} 处" if len(rows) > 10 else "")


def _group_unknown(problems: list[Problem], start: int, unknown: list[tuple[str, str, int]],
                   *, file: str, sheet: str) -> None:
    """Unknown units on more than one row become one problem listing every name, its rows
    and the closest registered name (a new office's plan names dozens)."""
    if len(unknown) < 2:
        return
    rows: dict[str, list[int]] = {}
    hints: dict[str, str] = {}
    for name, hint, row in unknown:
        rows.setdefault(name, []).append(row)
        hints[name] = hint.lstrip("，")
    names = [f"{n}（第 {_rows_text(rs)} 行{'，' + hints[n] if hints[n] else ''}）"
             for n, rs in list(rows.items())[:40]]
    more = f" 等 {len(rows)} 个" if len(rows) > 40 else ""
    problems[start:] = [p for p in problems[start:] if p.code != "plan-unknown-unit"]
    problems.append(problem("plan-unknown-units", file=file, sheet=sheet, count=len(rows),
                            names="；".join(names) + more))


def _plan_warnings(tasks: list[Task], tails: list[tuple[str, int]], *, file: str, sheet: str,
                   ) -> list[Problem]:
    """Grouped warnings: "…等相关部门" cut, tasks no form will carry, many equal texts."""
    out: list[Problem] = []
    if tails:
        out.append(problem("plan-units-etc", file=file, sheet=sheet, count=len(tails),
                           tails="”“".join(dict.fromkeys(t for t, _ in tails)),
                           rows=_rows_text([r for _, r in tails])))
    nobody = [t for t in tasks if t.units_text and not t.expected_units]
    if nobody:
        out.append(problem("plan-no-expected-units", file=file, sheet=sheet, count=len(nobody),
                           nos="、".join(str(t.no) for t in nobody[:20]),
                           terms="”“".join(dict.fromkeys(t.units_text for t in nobody[:5]))))
    same: dict[str, list[int]] = {}
    for t in tasks:
        same.setdefault(t.text, []).append(t.no)
    for text, nos in same.items():
        if len(nos) >= SAME_TEXT_WARNING:
            out.append(problem("plan-same-text", file=file, sheet=sheet, count=len(nos),
                               text=text[:30], nos="、".join(map(str, nos[:20]))))
    return out


# Tasks sharing one text: a heading column taken for the task text, most likely.
SAME_TEXT_WARNING = 3


def build_plan(*, year: int, title: str, raw: tuple[RawTask, ...], units: tuple[Unit, ...],
               collectives: tuple[Collective, ...], problems: list[Problem], file: str = "",
               sheet: str = TASK_SHEET) -> Plan:
    """Resolve raw task rows against the registry into a Plan (problems collected, not raised)."""
    tasks: list[Task] = []
    seen: set[int] = set()
    unknown: list[tuple[str, str, int]] = []  # (name, hint, row)
    tails: list[tuple[str, int]] = []
    raw_rows: list[int] = []
    start = len(problems)
    for r in raw:
        if r.no in seen:
            problems.append(problem("plan-duplicate-no", file=file, sheet=sheet, row=r.row, no=r.no))
            continue
        seen.add(r.no)
        try:
            deadline = parse_deadline(r.deadline, year)
        except ValueError:
            code = "plan-bad-deadline" if clean(r.deadline) else "plan-empty-deadline"
            problems.append(problem(code, file=file, sheet=sheet, row=r.row,
                                    text=clean(r.deadline)))
            # Kept as due at year end so the task still shows; the error stops `plan show`.
            deadline = Deadline(clean(r.deadline), date(year, 12, 31))
        res = resolve_phrase(r.units_text, units, collectives)
        for name, hint in res.unknown:
            problems.append(problem("plan-unknown-unit", file=file, sheet=sheet, row=r.row,
                                    name=name, hint=hint))
            unknown.append((name, hint, r.row))
        if res.tail:
            tails.append((res.tail, r.row))
        if not r.units_text:
            problems.append(problem("plan-no-units", file=file, sheet=sheet, row=r.row))
        tasks.append(Task(no=r.no, category=r.category, text=r.text, units_text=r.units_text,
                          deadline=deadline, named_units=res.named,
                          expected_units=res.expected, lead_unit=res.lead, open=res.open))
        raw_rows.append(r.row)
    _group_unknown(problems, start, unknown, file=file, sheet=sheet)
    unsure = {row for _, _, row in unknown}
    problems += _plan_warnings([t for t, r in zip(tasks, raw_rows, strict=True) if r not in unsure],
                               tails, file=file, sheet=sheet)
    return Plan(year=year, title=title, tasks=tuple(tasks), units=units,
                collectives=collectives, problems=tuple(problems), source=file)


def year_from_title(title: str) -> int | None:
    """The plan year named in a title (2025年…), or None."""
    m = re.search(r"(20\d{2})\s*年", nfkc(title))
    return int(m.group(1)) if m else None


def plan_name(title: str) -> str:
    """The plan's name from a title row.

    《2025年…工作要点》任务分解表 -> 2025年…工作要点; 2025年…工作任务分解表 ->
    2025年…工作要点 (the attachment's title names the work points it decomposes).
    Matched on the folded title, so a traditional title keeps its characters.
    """
    name = clean(title)
    folded = fold(name)
    m = re.search(r"《(.+?)》", folded)
    if m:
        return name[m.start(1):m.end(1)].strip()
    m = re.fullmatch(r"(.+?)工作任务分解表", folded)
    if m:
        return f"{name[:m.end(1)]}工作要点"
    # "…工作要点任务清单" names the work points; "…重点任务清单" is the plan's own name.
    m = re.search(r"(重点)?(工作)?任务(分解|清单)表?$", folded)
    if m and re.search(r"(要点|计划|方案|安排)$", folded[:m.start()].strip()):
        return name[:m.start()].strip()
    return name

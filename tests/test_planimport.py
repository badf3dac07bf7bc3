"""`plan import`: the official document as .txt, .docx, .xlsx (and .xls/.ods) -> plan workbook."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
import xlsxwriter
from docx import Document
from openpyxl import load_workbook
from typer.testing import CliRunner

from gkreport.cli import app
from gkreport.core.model import Plan
from gkreport.core.problems import GkreportError
from gkreport.plan.book import default_registry, read_plan, write_plan_workbook
from gkreport.plan.importer import ImportResult, import_plan, read_source, tasks_from_body
from tests.lo import convert, needs_lo

from .conftest import SEED

HEADERS = ["序号", "一级指标", "二级指标", "责任单位", "时间节点"]


def _groups(plan: Plan) -> list[list[int]]:
    """Task indexes grouped by category, in order (the merged category cells)."""
    groups: list[list[int]] = []
    for i, t in enumerate(plan.tasks):
        if groups and plan.tasks[groups[-1][0]].category == t.category:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def build_docx(path: Path, plan: Plan, *, merged: bool = True) -> Path:
    """The attachment table as a Word document: title paragraphs, merged category cells."""
    doc = Document()
    doc.add_paragraph("2025年松江区政务公开工作要点")
    doc.add_paragraph("为贯彻落实……制定本工作要点。")
    doc.add_paragraph("附件")
    doc.add_paragraph("2025年松江区政务公开工作任务分解表")
    table = doc.add_table(rows=1 + len(plan.tasks), cols=len(HEADERS))
    table.style = "Table Grid"
    for c, h in enumerate(HEADERS):
        table.cell(0, c).text = h
    firsts = {g[0] for g in _groups(plan)}
    for k, t in enumerate(plan.tasks, start=1):
        table.cell(k, 0).text = str(t.no)
        if k - 1 in firsts:
            table.cell(k, 1).text = t.category
        # Word wraps long cells; a line break inside the task text must not show.
        table.cell(k, 2).text = t.text.replace(",", ",\n", 1)
        table.cell(k, 3).text = t.units_text.replace(" ", "\n")
        table.cell(k, 4).text = t.deadline.text
    table.cell(3, 3).add_paragraph("")  # an empty paragraph in a units cell
    if merged:
        for g in _groups(plan):
            if len(g) > 1:
                table.cell(g[0] + 1, 1).merge(table.cell(g[-1] + 1, 1))
    doc.save(str(path))
    return path


def build_xlsx(path: Path, plan: Plan, *, two_row_header: bool = False) -> Path:
    """The attachment table as a workbook: title rows, merged categories, header synonyms."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("附件")
    wrap = wb.add_format({"text_wrap": True, "valign": "vcenter"})
    ws.write_string(0, 0, "附件")
    ws.merge_range(1, 0, 1, 5, "2025年松江区政务公开工作任务分解表")
    if two_row_header:
        # No 序号 column; 责任单位 spans 牵头单位 | 配合单位 on the row below.
        ws.merge_range(2, 0, 3, 0, "一级\n指标")
        ws.merge_range(2, 1, 3, 1, "具体任务")
        ws.merge_range(2, 2, 2, 3, "责任单位")
        ws.write_string(3, 2, "牵头单位")
        ws.write_string(3, 3, "配合单位")
        ws.merge_range(2, 4, 3, 4, "时间节点")
        first, cols = 4, {"category": 0, "text": 1, "lead": 2, "partners": 3, "deadline": 4}
    else:
        ws.write_row(2, 0, ["序号", "一级指标", "工作任务", "牵头单位", "配合单位", "完成时限"])
        first, cols = 3, {"no": 0, "category": 1, "text": 2, "lead": 3, "partners": 4,
                          "deadline": 5}
    for g in _groups(plan):
        cat = plan.tasks[g[0]].category
        if len(g) > 1:
            ws.merge_range(first + g[0], cols["category"], first + g[-1], cols["category"], cat,
                           wrap)
        else:
            ws.write_string(first + g[0], cols["category"], cat, wrap)
    for i, t in enumerate(plan.tasks):
        r = first + i
        lead, _, partners = t.units_text.partition("、")
        if "no" in cols:
            ws.write_number(r, cols["no"], t.no)
        ws.write_string(r, cols["text"], t.text, wrap)
        ws.write_string(r, cols["lead"], lead)
        if partners:
            ws.write_string(r, cols["partners"], partners)
        ws.write_string(r, cols["deadline"], t.deadline.text)
    ws.write_string(first + len(plan.tasks) + 1, 0, "注：各单位按职责分工落实。")
    wb.close()
    return path


def assert_same_plan(result: ImportResult, plan: Plan) -> None:
    """The written workbook reads back as exactly the bundled plan."""
    assert result.problems == ()
    assert result.plan.tasks == plan.tasks
    again = read_plan(result.path)
    assert again.tasks == plan.tasks
    assert (again.year, again.title) == (plan.year, plan.title)
    assert again.units == plan.units and again.collectives == plan.collectives
    assert again.fingerprint == plan.fingerprint
    assert again.problems == ()
    ws = load_workbook(result.path)["任务分解表"]
    assert ws["A1"].value == "2025年松江区政务公开工作要点"
    assert [c.value for c in ws[2]] == HEADERS


# ---------------------------------------------------------------- the seed, every format


def test_import_seed_text_reproduces_bundled_plan(tmp_path: Path, plan: Plan) -> None:
    result = import_plan(SEED, out=tmp_path / "任务分解表.xlsx")
    assert result.path == tmp_path / "任务分解表.xlsx"
    assert_same_plan(result, plan)


@pytest.mark.parametrize("merged", [True, False], ids=["merged", "blank"])
def test_import_docx_reproduces_bundled_plan(tmp_path: Path, plan: Plan, merged: bool) -> None:
    source = build_docx(tmp_path / "要点.docx", plan, merged=merged)
    assert_same_plan(import_plan(source, out=tmp_path / "out.xlsx"), plan)


@pytest.mark.parametrize("two_row_header", [False, True], ids=["synonyms", "two-row-header"])
def test_import_xlsx_reproduces_bundled_plan(tmp_path: Path, plan: Plan,
                                             two_row_header: bool) -> None:
    source = build_xlsx(tmp_path / "分解表.xlsx", plan, two_row_header=two_row_header)
    assert_same_plan(import_plan(source, out=tmp_path / "out.xlsx"), plan)


@pytest.fixture(scope="module")
def lo_copies(tmp_path_factory: pytest.TempPathFactory, plan: Plan) -> dict[str, Path]:
    """The .xlsx source saved by LibreOffice as .xls and .ods (one process each)."""
    d = tmp_path_factory.mktemp("lo")
    source = build_xlsx(d / "分解表.xlsx", plan)
    return {fmt: convert([source], fmt, d / fmt)[0] for fmt in ("xls", "ods")}


@needs_lo
@pytest.mark.libreoffice
@pytest.mark.parametrize("fmt", ["xls", "ods"])
def test_import_old_excel_and_ods(tmp_path: Path, plan: Plan, lo_copies: dict[str, Path],
                                  fmt: str) -> None:
    assert_same_plan(import_plan(lo_copies[fmt], out=tmp_path / "out.xlsx"), plan)


def test_import_goes_by_content_not_suffix(tmp_path: Path, plan: Plan) -> None:
    source = build_docx(tmp_path / "要点.docx", plan)
    renamed = tmp_path / "要点.txt"
    shutil.copy(source, renamed)
    assert_same_plan(import_plan(renamed, out=tmp_path / "out.xlsx"), plan)


def test_seed_table_wins_over_body_text(plan: Plan) -> None:
    table, title = read_source(SEED)
    assert title == "2025年松江区政务公开工作要点"
    assert len(table.tasks) == 27
    assert "区体育局" in table.tasks[22].units_text  # only the attachment names it
    assert table.tasks[8].row == 1 + SEED.read_text(encoding="utf-8").splitlines().index("9 |")


# ---------------------------------------------------------------- body text

BODY = """\
2026年某区政务公开工作要点
为做好今年工作，制定本要点。
一、第一类工作
1.任务一的内容。(责任单位:区财政局、区发改委)
2．任务二的内容。（责任单位：区政府办公室，完成时限：全年）
3、任务三的内容，
续行。(牵头单位:区政府办公室,责任单位:区数据局、各街镇,完成时限:长期坚持)
二、第二类工作
（1）任务四（子项）内容。（牵头单位：区民政局；责任单位：区民政局、各有关单位；完成时限：6月底前）
附件：无
"""
BODY_TASKS = [
    (1, "第一类工作", "任务一的内容。", "区财政局、区发改委", "全年", date(2026, 12, 31)),
    (2, "第一类工作", "任务二的内容。", "区政府办公室", "全年", date(2026, 12, 31)),
    (3, "第一类工作", "任务三的内容，续行。", "区政府办公室、区数据局、各街镇", "长期坚持", None),
    (4, "第二类工作", "任务四（子项）内容。", "区民政局、各有关单位", "6月底前", date(2026, 6, 30)),
]


def _body_facts(result: ImportResult) -> list[tuple]:
    return [(t.no, t.category, t.text, t.units_text, t.deadline.text, t.deadline.date)
            for t in read_plan(result.path).tasks]


def test_import_body_text(tmp_path: Path) -> None:
    source = tmp_path / "要点.txt"
    source.write_text(BODY, encoding="gb18030")  # an export in the legacy Chinese encoding
    result = import_plan(source, out=tmp_path / "out.xlsx")
    assert _body_facts(result) == BODY_TASKS
    assert (result.plan.year, result.plan.title) == (2026, "2026年某区政务公开工作要点")
    assert [(p.code, p.message) for p in result.problems] == [
        ("plan-no-deadline-text", "1 项任务在正文中未写明完成时限，按“全年”处理")]
    assert [t.lead_unit for t in result.plan.tasks] == [
        "区财政局", "区政府办公室", "区政府办公室", "区民政局"]
    assert result.plan.task(4).open and result.plan.task(4).expected_units == ("区民政局",)
    assert [t.row for t in read_source(source)[0].tasks] == [4, 5, 6, 9]


def test_import_body_text_docx(tmp_path: Path) -> None:
    doc = Document()
    for line in BODY.splitlines():
        doc.add_paragraph(line)
    doc.save(str(tmp_path / "要点.docx"))
    result = import_plan(tmp_path / "要点.docx", out=tmp_path / "out.xlsx")
    assert _body_facts(result) == BODY_TASKS


def test_import_body_text_with_word_numbering(tmp_path: Path) -> None:
    doc = Document()
    doc.add_paragraph("2026年某区政务公开工作要点", style="Title")
    doc.add_heading("第一类工作", 1)
    doc.add_paragraph("任务一的内容。(责任单位:区财政局、区发改委)", style="List Number")
    doc.add_paragraph("任务二的内容。（责任单位：区政府办公室，完成时限：全年）", style="List Number")
    doc.add_heading("第二类工作", 1)
    doc.add_paragraph("任务四（子项）内容。（牵头单位：区民政局；责任单位：区民政局、各有关单位；"
                      "完成时限：6月底前）", style="List Number")
    doc.save(str(tmp_path / "要点.docx"))
    result = import_plan(tmp_path / "要点.docx", out=tmp_path / "out.xlsx")
    assert _body_facts(result) == [(n, *t[1:]) for n, t in
                                   enumerate((BODY_TASKS[0], BODY_TASKS[1], BODY_TASKS[3]), 1)]


def test_body_text_takes_the_numbering_that_carries_units() -> None:
    lines = ["一、重点任务", "（一）第一方面", "1.总体目标。", "（1）细项甲。（责任单位：区财政局）",
             "（2）细项乙。（责任单位：区民政局）", "（二）第二方面",
             "（1）细项丙。（责任单位：区民政局）"]
    table = tasks_from_body(list(enumerate(lines, start=1)))
    assert table is not None
    assert [(t.no, t.category, t.text) for t in table.tasks] == [
        (1, "第一方面", "细项甲。"), (2, "第一方面", "细项乙。"), (3, "第二方面", "细项丙。")]
    assert tasks_from_body([(1, "一、总则"), (2, "1.没有责任单位的条目。")]) is None


def test_seed_body_text_alone(tmp_path: Path, plan: Plan) -> None:
    lines = SEED.read_text(encoding="utf-8").splitlines()
    body = tmp_path / "正文.txt"
    body.write_text("\n".join(lines[:lines.index("附件")]), encoding="utf-8")
    result = import_plan(body, out=tmp_path / "out.xlsx")
    got = result.plan
    assert (got.year, got.title, len(got.tasks)) == (2025, plan.title, 27)
    assert [sum(t.category == c for t in got.tasks) for c in got.categories] == [4, 13, 4, 6]
    assert got.categories == plan.categories
    assert got.task(1).text == plan.task(1).text
    # The body's own unit list for task 23 (the attachment adds three units).
    assert got.task(23).units_text == "区政府办公室、区融媒体中心、各有关单位、各街镇"
    assert [(p.code, p.message) for p in result.problems] == [
        ("plan-no-deadline-text", "27 项任务在正文中未写明完成时限，按“全年”处理")]


# ---------------------------------------------------------------- year, registry, problems


def test_year_option_wins_and_stays_in_the_title(tmp_path: Path) -> None:
    result = import_plan(SEED, out=tmp_path / "out.xlsx", year=2026)
    assert (result.plan.year, result.plan.title) == (2026, "2026年松江区政务公开工作要点")
    again = read_plan(result.path)
    assert again.year == 2026 and again.task(9).deadline.date == date(2026, 4, 30)


def test_no_year_anywhere(tmp_path: Path) -> None:
    source = tmp_path / "无年度.txt"
    source.write_text("一、类\n1.任务。(责任单位:区财政局,完成时限:6月底前)\n", encoding="utf-8")
    # Not this year by default: --year is required, and nothing is written.
    with pytest.raises(GkreportError) as exc:
        import_plan(source, out=tmp_path / "a.xlsx")
    assert str(exc.value) == ("[错误] 无年度.txt：未能从标题或正文中识别计划年度。请用 --year 指定年度，"
                              "例如 gkreport plan import 文件名 --year 2025")
    assert not (tmp_path / "a.xlsx").exists()
    result = import_plan(source, out=tmp_path / "b.xlsx", year=2024)
    assert result.problems == () and result.plan.title == "2024年工作要点"
    assert read_plan(result.path).task(1).deadline.date == date(2024, 6, 30)


def test_registry_from_the_workspace_plan(tmp_path: Path, plan: Plan) -> None:
    units, colls = default_registry()
    registry = write_plan_workbook(
        tmp_path / "现有计划.xlsx", title="旧计划", tasks=[], collectives=colls,
        units=tuple(u for u in units if u.name != "区体育局"))
    out = tmp_path / "out.xlsx"
    result = import_plan(SEED, out=out, registry=registry)
    row = 1 + SEED.read_text(encoding="utf-8").splitlines().index("23 |")
    assert [(p.code, p.file, p.row) for p in result.problems] == [
        ("plan-unknown-unit", SEED.name, row)]
    assert result.problems[0].message == "责任单位“区体育局”不在单位名录中，是否为“区教育局”？"
    again = read_plan(out)  # written anyway, so the office can add the unit
    assert again.unit("区体育局") is None and len(again.units) == len(units) - 1
    assert [p.code for p in again.problems] == ["plan-unknown-unit"]
    assert again.problems[0].row == 25  # its row in the written workbook


def test_unknown_unit_in_source_is_reported_and_written(tmp_path: Path) -> None:
    source = tmp_path / "要点.txt"
    source.write_text("2025年某工作要点\n一、类\n1.任务。(责任单位:松江区财政局,完成时限:全年)\n", encoding="utf-8")
    result = import_plan(source, out=tmp_path / "out.xlsx")
    assert [(p.code, p.row, p.message) for p in result.problems] == [
        ("plan-unknown-unit", 3, "责任单位“松江区财政局”不在单位名录中，是否为“区财政局”？")]
    assert result.path.exists()


def test_table_without_deadline_column(tmp_path: Path) -> None:
    path = tmp_path / "无时限.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["2025年某工作要点任务清单"])
    ws.write_row(1, 0, ["工作任务", "责任单位"])
    ws.write_row(2, 0, ["任务甲", "区财政局"])
    ws.write_row(3, 0, ["任务乙", "区民政局、各街镇"])
    wb.close()
    result = import_plan(path, out=tmp_path / "out.xlsx")
    assert [(t.no, t.deadline.text) for t in result.plan.tasks] == [(1, "全年"), (2, "全年")]
    assert [(p.code, p.sheet) for p in result.problems] == [("plan-no-deadline-column", "Sheet1")]
    assert result.plan.title == "2025年某工作要点"


# ---------------------------------------------------------------- bad inputs


def _missing_units_xlsx(path: Path) -> None:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("任务分解表")
    ws.write_row(0, 0, ["2025年某工作任务分解表"])
    ws.write_row(1, 0, ["序号", "一级指标", "二级指标", "时间节点"])
    ws.write_row(2, 0, [1, "类", "任务", "全年"])
    wb.close()


def _empty_docx(path: Path) -> None:
    Document().save(str(path))


def _header_only_docx(path: Path) -> None:
    doc = Document()
    doc.add_paragraph("2025年某工作要点")
    table = doc.add_table(rows=1, cols=3)
    for c, h in enumerate(["序号", "工作任务", "责任单位"]):
        table.cell(0, c).text = h
    doc.save(str(path))


BAD = [
    ("garbage.xlsx", lambda p: p.write_bytes(bytes(range(256)) * 8), "plan-unreadable",
     "文件已损坏或不是有效的 Excel 工作簿"),
    ("garbage.docx", lambda p: p.write_bytes(b"\x00\xff garbage " * 50), "plan-unreadable",
     "文件已损坏或不是有效的 Word 文档"),
    ("zip.docx", lambda p: shutil.make_archive(str(p.with_suffix("")), "zip", p.parent)
     and p.with_suffix(".zip").rename(p), "plan-unreadable", "不是有效的 Word 文档"),
    ("empty.docx", _empty_docx, "plan-no-tasks", "没有任务分解表"),
    ("header-only.docx", _header_only_docx, "plan-header-no-rows",
     "找到表头（序号、工作任务、责任单位），但没有找到任务行"),
    ("header-only.txt", lambda p: p.write_text(
        "2025年某局工作要点\n重点任务 | 具体要求 | 责任科室 | 时限要求 |\n", encoding="utf-8"),
     "plan-header-no-rows", "找到表头（重点任务、具体要求、责任科室、时限要求），但没有找到任务行"),
    ("progress.txt", lambda p: p.write_text(
        "序号 | 任务 | 责任单位 | 完成时限 | 完成情况 |\n1 | 甲 | 区财政局 | 全年 | 已完成 |\n",
        encoding="utf-8"), "plan-progress-report", "这是进度报告，不是任务分解表"),
    ("no-units.xlsx", _missing_units_xlsx, "plan-missing-column", "缺少“责任单位”列"),
    ("empty.txt", lambda p: p.write_bytes(b""), "plan-no-tasks", "文件为空"),
    ("blank.txt", lambda p: p.write_text(" \n\n", encoding="utf-8"), "plan-no-tasks", "文件为空"),
    ("prose.txt", lambda p: p.write_text("2025年工作要点\n今年要好好工作。\n", encoding="utf-8"),
     "plan-no-tasks", "没有找到任务分解表"),
    ("binary.txt", lambda p: p.write_bytes(b"\x00\x01\x02" * 100), "plan-unreadable", "不是文本"),
    ("scan.pdf", lambda p: p.write_bytes(b"%PDF-1.4 ..."), "plan-unreadable", "PDF 文件无法直接导入"),
    ("old.doc", lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600),
     "plan-unreadable", "另存为 .docx"),
    ("locked.xlsx", lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600),
     "plan-unreadable", "文件已加密"),
    ("old.xls", lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600),
     "plan-unreadable", "不是有效的 Excel 工作簿"),
]


@pytest.mark.parametrize(("name", "make", "code", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_refused_and_nothing_written(tmp_path: Path, name: str, make, code: str,
                                                  words: str) -> None:
    src_dir = tmp_path / "src"
    src_dir.mkdir()
    source = src_dir / name
    make(source)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(GkreportError) as exc:
        import_plan(source, out=out_dir / "任务分解表.xlsx")
    p = exc.value.problems[0]
    assert p.code == code
    assert words in p.message
    assert p.file == name and name in str(exc.value)  # the message names the file
    assert list(out_dir.iterdir()) == []


def test_missing_column_message(tmp_path: Path) -> None:
    source = tmp_path / "缺列.xlsx"
    _missing_units_xlsx(source)
    with pytest.raises(GkreportError) as exc:
        import_plan(source, out=tmp_path / "out.xlsx")
    assert str(exc.value) == (
        "[错误] 缺列.xlsx / 任务分解表：任务分解表缺少“责任单位”列（可用列名：责任单位、责任部门、"
        "主责单位、承办单位、实施单位、责任科室、负责科室、责任处室、负责处室、负责部门、负责单位、"
        "主责部门、责任主体、落实单位、责任股室、牵头单位、牵头部门、牵头科室、牵头处室）。"
        "请在表头中加入“责任单位”列")


def test_missing_source_and_bad_registry(tmp_path: Path) -> None:
    with pytest.raises(GkreportError) as exc:
        import_plan(tmp_path / "none.docx", out=tmp_path / "out.xlsx")
    assert exc.value.problems[0].code == "plan-unreadable"
    bad = tmp_path / "bad-registry.xlsx"
    bad.write_bytes(b"nope")
    with pytest.raises(GkreportError):
        import_plan(SEED, out=tmp_path / "out.xlsx", registry=bad)
    assert not (tmp_path / "out.xlsx").exists()


# ---------------------------------------------------------------- documents of other offices

PLANS = Path(__file__).resolve().parent / "data" / "plans"
SHAPES = sorted(p for p in PLANS.iterdir() if p.suffix in (".txt", ".docx", ".xlsx"))


def _task_facts(plan: Plan) -> list[dict]:
    return [{"no": t.no, "category": t.category, "text": t.text, "units": list(t.named_units),
             "expected": list(t.expected_units), "lead": t.lead_unit,
             "deadline": t.deadline.date.isoformat() if t.deadline.date else None,
             "open": t.open} for t in plan.tasks]


def _expected_facts(expected: dict) -> list[dict]:
    return [{**t, "expected": t.get("expected", t["units"]), "open": t.get("open", False)}
            for t in expected["tasks"]]


@pytest.mark.parametrize("source", SHAPES, ids=[p.stem for p in SHAPES])
def test_plan_documents_of_every_shape(tmp_path: Path, source: Path) -> None:
    """Each document in tests/data/plans imports as its hand-written JSON says."""
    expected = json.loads(source.with_suffix(".json").read_text(encoding="utf-8"))
    out = tmp_path / "任务分解表.xlsx"
    if "refused" in expected:
        with pytest.raises(GkreportError) as exc:
            import_plan(source, out=out, new_registry=True)
        p = exc.value.problems[0]
        assert (p.code, p.message, p.file) == (expected["refused"], expected["message"], source.name)
        assert not out.exists()
        return
    result = import_plan(source, out=out, new_registry=expected["registry"] == "new")
    plan = result.plan
    assert (plan.year, plan.title) == (expected["year"], expected["title"])
    assert _task_facts(plan) == _expected_facts(expected)
    assert [[p.code, p.row] for p in result.problems] == expected["problems"]
    if "units" in expected:
        assert [[u.name, u.kind.value, list(u.aliases)] for u in plan.units] == expected["units"]
    again = read_plan(out)  # the workbook reads back as the same plan, without errors
    assert again.tasks == plan.tasks and again.units == plan.units
    assert not again.has_errors


# ---------------------------------------------------------------- the registry, through the CLI

runner = CliRunner()
NEW_REGISTRY = [p for p in SHAPES if json.loads(p.with_suffix(".json").read_text(
    encoding="utf-8")).get("registry") == "new" and "错位" not in p.stem]


@pytest.fixture
def empty_workspace(tmp_path: Path) -> Path:
    """A workspace with no plan workbook yet: an office's first import."""
    ws = tmp_path / "ws"
    (ws / "input").mkdir(parents=True)
    return ws


def _forms(ws: Path) -> set[str]:
    r = runner.invoke(app, ["forms", "--period", "2025-06", "-w", str(ws), "-q"])
    assert r.exit_code == 0, r.output
    return {p.name.removesuffix("_2025-06_填报表.xlsx")
            for p in (ws / "output" / "forms" / "2025-06").glob("*_2025-06_填报表.xlsx")}


@pytest.mark.parametrize("source", NEW_REGISTRY, ids=[p.stem for p in NEW_REGISTRY])
def test_new_registry_then_forms_gives_every_named_unit_its_form(empty_workspace: Path,
                                                                  source: Path) -> None:
    ws = empty_workspace
    r = runner.invoke(app, ["plan", "import", str(source), "--new-registry", "-w", str(ws)])
    assert r.exit_code == 0, r.output
    assert sum("单位名录按计划新建" in line for line in r.stdout.splitlines()) == 1
    plan = read_plan(ws / "input" / "任务分解表.xlsx")
    named = {u for t in plan.tasks for u in t.named_units}
    assert named == {u.name for u in plan.units}  # every unit the plan names, and only those
    assert _forms(ws) == set(plan.expected_units) == named


def test_first_import_builds_the_registry_when_the_bundled_one_does_not_fit(
        empty_workspace: Path) -> None:
    source = PLANS / "02-西岭镇-整行一行.txt"
    r = runner.invoke(app, ["plan", "import", str(source), "-w", str(empty_workspace)])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[1:] == [
        "  [警告] 02-西岭镇-整行一行.txt：单位名录按计划新建：5 个单位（其他 5），其中 5 个在“备注”中"
        "标为“新增，请核对”。请在计划工作簿的“单位名录”中核对单位名称和类别（类别按名称推测），"
        "补充别名、联系人和联系电话"]
    assert _forms(empty_workspace) == {"财政所", "党政办公室", "规划建设办公室", "社会事务办公室",
                                       "经济发展办公室"}


def test_first_import_of_the_bundled_district_keeps_the_bundled_registry(
        empty_workspace: Path, plan: Plan) -> None:
    r = runner.invoke(app, ["plan", "import", str(SEED), "-w", str(empty_workspace)])
    assert r.exit_code == 0, r.output
    assert "单位名录按计划新建" not in r.output
    again = read_plan(empty_workspace / "input" / "任务分解表.xlsx")
    assert again.units == plan.units and again.tasks == plan.tasks


def test_existing_registry_lists_unknown_units_in_one_problem(workspace: Path) -> None:
    source = PLANS / "02-西岭镇-整行一行.txt"
    r = runner.invoke(app, ["plan", "import", str(source), "-w", str(workspace)])
    assert r.exit_code == 1
    problems = [line.strip() for line in r.stdout.splitlines()[1:]]
    assert problems == [
        "[错误] 02-西岭镇-整行一行.txt：5 个责任单位不在单位名录中：财政所（第 7 行）；党政办公室"
        "（第 8、10、11 行，是否为“区政府办公室”？）；规划建设办公室（第 9 行）；社会事务办公室"
        "（第 9、11 行）；经济发展办公室（第 11 行）。请在单位名录中登记这些单位（或其别名），"
        "或改正单位名称；如果是新单位的计划，可用 gkreport plan import --new-registry 按计划新建"
        "单位名录"]


def test_new_registry_keeps_what_the_workspace_registry_knows(workspace: Path) -> None:
    """Re-importing with --new-registry: units the registry knows keep their entry (aliases,
    category) and no 新增 mark; units it does not know are added and marked."""
    source = workspace / "要点.txt"
    source.write_text("2026年某区工作要点\n| 序号 | 工作任务 | 责任单位 | 完成时限 |\n"
                      "| 1 | 任务甲。 | 区发改委牵头，区宇宙局配合 | 全年 |\n", encoding="utf-8")
    r = runner.invoke(app, ["plan", "import", str(source), "--new-registry", "-w", str(workspace)])
    assert r.exit_code == 0, r.output
    plan = read_plan(workspace / "input" / "任务分解表.xlsx")
    assert [(u.name, u.kind.value, u.aliases) for u in plan.units] == [
        ("区发展改革委", "区政府部门", ("区发改委", "区发展和改革委员会")),
        ("区宇宙局", "区政府部门", ())]
    ws = load_workbook(workspace / "input" / "任务分解表.xlsx")["单位名录"]
    assert [(r[0], r[-1]) for r in ws.iter_rows(min_row=2, values_only=True)] == [
        ("区发展改革委", ""), ("区宇宙局", "新增，请核对")]
    assert plan.task(1).lead_unit == "区发展改革委"


def test_cli_asks_for_the_year_when_the_document_names_none(empty_workspace: Path) -> None:
    source = empty_workspace / "要点.txt"
    source.write_text("| 序号 | 工作任务 | 责任单位 | 完成时限 |\n| 1 | 任务甲。 | 区财政局 | 6月底前 |\n",
                      encoding="utf-8")
    r = runner.invoke(app, ["plan", "import", str(source), "-w", str(empty_workspace)])
    assert r.exit_code == 1
    assert r.stderr.strip() == ("[错误] 要点.txt：未能从标题或正文中识别计划年度。请用 --year 指定年度，"
                                "例如 gkreport plan import 文件名 --year 2025")
    assert not (empty_workspace / "input" / "任务分解表.xlsx").exists()
    r = runner.invoke(app, ["plan", "import", str(source), "--year", "2026", "-w",
                            str(empty_workspace)])
    assert r.exit_code == 0, r.output
    assert read_plan(empty_workspace / "input" / "任务分解表.xlsx").task(1).deadline.date == date(
        2026, 6, 30)

"""Write the Word and Excel plan documents of this folder (run once; the files are committed).

    python tests/data/plans/make_plans.py

Each document is a plausible task table of a different office, in a shape plan import
must read: vertical merges in Word, an unlabelled number column and title rows in Excel,
a requirement column beside a heading column, numbers inside the text, two unit columns,
a progress report that is not a plan. The plain-text documents beside them are written by
hand. The expected JSON files are written by hand from the documents, never by gkreport.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import xlsxwriter
from docx import Document

HERE = Path(__file__).resolve().parent


def _table(doc: Document, rows: list[list[str]]):  # noqa: ANN202 - python-docx Table
    table = doc.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    for r, values in enumerate(rows):
        for c, v in enumerate(values):
            table.cell(r, c).text = v
    return table


def _merge_down(table, col: int, first: int, last: int) -> None:  # noqa: ANN001
    """Merge a column's cells vertically, keeping the first cell's text only (as Word does)."""
    for r in range(first + 1, last + 1):
        table.cell(r, col).text = ""
    table.cell(first, col).merge(table.cell(last, col))


def department_docx(path: Path) -> None:
    """A district bureau's 科室: 重点任务 (merged down) + 具体要求, no 序号 column."""
    doc = Document()
    doc.add_paragraph("东湖区市场监督管理局2025年政务公开工作任务分解表")
    rows = [
        ["重点任务", "具体要求", "责任科室", "时限要求"],
        ["加强主动公开", "及时公开市场监管领域行政许可、行政处罚信息，做到应公开尽公开。",
         "登记注册科牵头，执法稽查科配合", "全年"],
        ["", "按时更新本局政府信息公开指南和主动公开目录。", "办公室", "3月底前"],
        ["", "做好食品安全监督抽检结果公示工作。", "食品安全科负责落实", "长期坚持"],
        ["深化政策解读", "对本局出台的规范性文件同步开展政策解读，解读材料与文件同步发布。",
         "法规科、办公室", "全年"],
        ["", "围绕优化营商环境组织开展“局长讲政策”活动。", "办公室牵头，各科室配合", "第三季度"],
        ["强化平台建设", "规范政务新媒体运维，落实信息发布“三审”制度。", "办公室（宣传科）",
         "6月底前"],
    ]
    table = _table(doc, rows)
    _merge_down(table, 0, 1, 3)
    _merge_down(table, 0, 4, 5)
    doc.save(str(path))


def city_bureau_xlsx(path: Path) -> None:
    """A city bureau's 处室: title rows, 工作类别 spanning an unlabelled number column."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("附件2")
    wrap = wb.add_format({"text_wrap": True, "valign": "vcenter"})
    day = wb.add_format({"num_format": "yyyy年m月d日"})
    ws.write_string(0, 0, "附件2")
    ws.merge_range(1, 0, 1, 4, "2025年南江市交通运输局政务公开重点任务清单")
    ws.merge_range(2, 0, 2, 1, "工作类别")
    ws.write_row(2, 2, ["具体内容", "责任处室", "完成时间"])
    tasks = [
        ("公开年度交通运输重点工程项目批准和实施信息。", "规划计划处牵头，建设管理处配合",
         "2025年6月"),
        ("及时发布交通运输领域规范性文件及解读材料。", "政策法规处（行政审批处）", "全年"),
        ("做好道路运输行业执法信息公示。", "执法监督处等相关处室", "年底前"),
        ("办理人大代表建议和政协委员提案，并公开办理复文。", "办公室", "10月底前"),
        ("做好12328交通运输服务监督热线诉求办理工作，定期分析公开。",
         "运输服务处、各业务处室", "长期"),
        ("优化局门户网站栏目设置，加强网站内容保障。", "办公室", datetime(2025, 9, 30)),
    ]
    ws.merge_range(3, 0, 5, 0, "政策公开", wrap)
    ws.merge_range(6, 0, 7, 0, "回应关切", wrap)
    ws.write_string(8, 0, "平台建设", wrap)
    for k, (text, units, deadline) in enumerate(tasks):
        ws.write_number(3 + k, 1, k + 1)
        ws.write_string(3 + k, 2, text, wrap)
        ws.write_string(3 + k, 3, units, wrap)
        if isinstance(deadline, datetime):
            ws.write_datetime(3 + k, 4, deadline, day)
        else:
            ws.write_string(3 + k, 4, deadline)
    ws.write_string(10, 0, "注：责任处室排在第一位的为牵头处室。")
    wb.close()


def education_docx(path: Path) -> None:
    """A district education bureau: 牵头单位 + 配合单位, merged category and deadline,
    line breaks inside cells, and the header repeated where the table goes on."""
    doc = Document()
    doc.add_paragraph("临江区教育局")
    doc.add_paragraph("2025年临江区教育局政务公开工作要点")
    doc.add_paragraph("一、总体要求（略）")
    doc.add_paragraph("附件")
    header = ["序号", "工作类别", "工作任务", "牵头单位", "配合单位", "完成时限"]
    rows = [
        header,
        ["1", "招生入学", "公开义务教育阶段招生政策、\n划片范围和招生计划。", "基础教育科",
         "区教育考试中心、\n各中小学", "4月底前"],
        ["2", "", "公开民办学校招生简章备案情况。", "民办教育科", "", ""],
        ["3", "财务信息", "公开局本级部门预决算。", "财务审计科", "办公室", "上半年"],
        header,
        ["4", "财务信息", "公开学生资助政策和资助名单（隐去个人敏感信息）。", "财务审计科",
         "各中小学", "全年"],
    ]
    table = _table(doc, rows)
    _merge_down(table, 1, 1, 2)
    _merge_down(table, 5, 1, 2)  # one deadline for two tasks
    doc.save(str(path))


def health_xlsx(path: Path) -> None:
    """A health commission: numbers inside the text ("1."), 工作任务 + 工作内容, Excel dates."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("任务清单")
    wrap = wb.add_format({"text_wrap": True})
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_string(0, 0, "附件")
    ws.write_string(1, 0, "东湖区卫生健康委员会2025年政务公开工作要点")
    ws.write_string(2, 0, "2025年2月20日")
    ws.write_row(3, 0, ["工作任务", "工作内容", "负责科室", "完成时限"])
    rows = [
        ("医疗服务信息公开", "1.公开辖区医疗机构执业登记和校验信息。", "医政医管科负责落实",
         datetime(2025, 6, 30)),
        ("医疗服务信息公开", "2.公开二级以上医院门诊、住院次均费用。",
         "医政医管科、基层卫生科、区卫生监督所分别牵头落实", "全年"),
        ("公共卫生信息公开", "3.按规定发布法定传染病疫情信息。", "疾病预防控制科，区疾控中心",
         "长期坚持"),
        ("公共卫生信息公开", "4.公开国家基本公共卫生服务项目内容和服务标准。",
         "基层卫生科牵头，各社区卫生服务中心配合", datetime(2025, 3, 31)),
    ]
    ws.merge_range(4, 0, 5, 0, rows[0][0], wrap)
    ws.merge_range(6, 0, 7, 0, rows[2][0], wrap)
    for k, (_, text, units, deadline) in enumerate(rows):
        ws.write_string(4 + k, 1, text, wrap)
        ws.write_string(4 + k, 2, units, wrap)
        if isinstance(deadline, datetime):
            ws.write_datetime(4 + k, 3, deadline, day)
        else:
            ws.write_string(4 + k, 3, deadline)
    wb.close()


def progress_report_xlsx(path: Path) -> None:
    """Not a plan: a unit's monthly progress report (已完成, 进度, 完成比例)."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("5月进展")
    ws.write_string(0, 0, "2025年政务公开工作推进情况（5月）")
    ws.write_row(1, 0, ["序号", "工作任务", "责任单位", "完成时限", "完成情况", "完成比例"])
    ws.write_row(2, 0, [1, "公开部门预决算。", "区财政局", "6月底前", "已完成", "100%"])
    ws.write_row(3, 0, [2, "更新政府信息公开指南。", "区政府办公室", "3月底前", "已完成", "100%"])
    ws.write_row(4, 0, [3, "组织政府开放月活动。", "区政府办公室", "下半年", "按计划推进", "40%"])
    wb.close()


def main() -> None:
    department_docx(HERE / "01-东湖区市场监管局-科室.docx")
    city_bureau_xlsx(HERE / "03-南江市交通局-处室.xlsx")
    education_docx(HERE / "07-临江区教育局-两列单位.docx")
    health_xlsx(HERE / "09-东湖区卫健委-序号在文中.xlsx")
    progress_report_xlsx(HERE / "11-进度报告-不是计划.xlsx")


if __name__ == "__main__":
    main()

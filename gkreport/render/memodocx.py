"""The leaders' memo as a Word document laid out per GB/T 9704-2012 (党政机关公文格式), and the
layout's building blocks (`new_document`, `heading`, `body`, `lead`, `table`, `annex`) that the
review's memo uses too.

python-docx code rather than a docxtpl template: the layout rules (East-Asian font on every
run, fixed table widths, exact line pitch) are easy to break by editing a .docx in Word or
WPS, and the wording already lives in the memo context (`memo.memo_context`), shared with the
.md/.html templates. python-docx is imported inside functions: the CLI starts without it.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from gkreport.core.model import OVERDUE, STATUS_HEX

# (font, fallback named in the font table's altName: Word/WPS use it where the first is missing)
FONT_TITLE = ("方正小标宋简体", "宋体")
FONT_BODY = ("仿宋_GB2312", "仿宋")
FONT_H1 = ("黑体", "SimHei")
FONT_H2 = ("楷体_GB2312", "楷体")
FONT_PAGE = ("宋体", "SimSun")
FONT_LATIN = "Times New Roman"
SIZE_TITLE, SIZE_BODY, SIZE_TABLE, SIZE_PAGE = 22, 16, 10.5, 14  # 2号, 3号, 五号, 4号
LINE_PT = 28.95  # 22 lines in the 225 mm type area
TITLE_LINE_PT = 36
TABLE_LINE_PT = 16
CELL_MARGIN_MM = 1  # left and right; Word's default 1.9 mm would cost a character a column
# 10.5 pt characters are 3.7 mm wide, plus 2 mm of cell margins: 3 characters need 13.5 mm.
# The memo context caps its table texts to two lines of these widths.
CATEGORY_COLS = (("一级指标", 58.5), ("任务数", 13.5), ("已完成", 13.5), ("按计划推进", 21),
                 ("滞后", 10), ("未启动", 13.5), ("逾期", 10), ("完成率", 16))  # 100.0%
# No 责任单位 column: mostly collective terms (各街镇); the reason names the units behind.
DELAY_COLS = (("序号", 10), ("任务", 48), ("时间节点", 17.5), ("情况", 10), ("主要原因", 70.5))


def _qn(tag: str) -> str:
    from docx.oxml.ns import qn

    return str(qn(tag))


def _set_fonts(rpr: Any, east: str) -> None:
    """Name the East-Asian font explicitly (w:eastAsia) and drop theme fonts that override it."""
    rfonts = rpr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(_qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        rfonts.set(_qn(attr), FONT_LATIN)
    rfonts.set(_qn("w:eastAsia"), east)
    rfonts.set(_qn("w:hint"), "eastAsia")


def _run(par: Any, text: str, font: tuple[str, str] = FONT_BODY, size: float = SIZE_BODY,
         *, bold: bool = False) -> Any:
    from docx.shared import Pt

    run = par.add_run(text)
    run.font.size = Pt(size)
    run.font.bold = bold
    _set_fonts(run._element.get_or_add_rPr(), font[0])
    return run


def _par(container: Any, *, indent: bool = True, line: float = LINE_PT, align: Any = None,
         outline: int | None = None, first: bool = False) -> Any:
    """A paragraph with exact line pitch, no spacing, and a 2-character first-line indent."""
    from docx.enum.text import WD_LINE_SPACING
    from docx.oxml import OxmlElement
    from docx.shared import Pt

    par = container.paragraphs[0] if first else container.add_paragraph()
    fmt = par.paragraph_format
    fmt.line_spacing = Pt(line)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.space_before = fmt.space_after = Pt(0)
    if indent:
        fmt.first_line_indent = Pt(SIZE_BODY * 2)
        # firstLineChars keeps the indent at 2 characters if the reader changes the font size.
        par._p.get_or_add_pPr().get_or_add_ind().set(_qn("w:firstLineChars"), "200")
    if align is not None:
        par.alignment = align
    if outline is not None:
        fmt.keep_with_next = True
        lvl = OxmlElement("w:outlineLvl")
        lvl.set(_qn("w:val"), str(outline))
        par._p.get_or_add_pPr().append(lvl)  # last child: after jc in the schema order
    return par


def body(doc: Any, text: str) -> Any:
    par = _par(doc)
    _run(par, text)
    return par


def heading(doc: Any, text: str) -> None:
    _run(_par(doc, outline=0), text, FONT_H1)


def lead(doc: Any, lead: str, text: str, *, outline: int | None = None) -> None:
    """A paragraph opening with a 楷体 second-level lead-in, then body text."""
    par = _par(doc, outline=outline)
    par.paragraph_format.keep_with_next = False
    _run(par, lead, FONT_H2)
    _run(par, text)


def _shade(cell: Any, fill: str) -> None:
    from docx.oxml import OxmlElement

    shd = OxmlElement("w:shd")
    shd.set(_qn("w:val"), "clear")
    shd.set(_qn("w:color"), "auto")
    shd.set(_qn("w:fill"), fill.lstrip("#"))
    cell._tc.get_or_add_tcPr().append(shd)


def table(doc: Any, cols: tuple[tuple[str, float], ...], rows: list[list[str]],
          fills: list[dict[int, str]] | None = None, left: tuple[int, ...] = ()) -> None:
    """A bordered table with fixed layout and widths on the grid and on every cell (for WPS)."""
    from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.shared import Mm

    grid = doc.add_table(rows=1 + len(rows), cols=len(cols))
    grid.style = doc.styles["Table Grid"]
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False  # w:tblLayout type="fixed"
    tblw = grid._tbl.tblPr.find(_qn("w:tblW"))
    tblw.set(_qn("w:type"), "dxa")
    tblw.set(_qn("w:w"), str(sum(Mm(w).twips for _, w in cols)))
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        mar = OxmlElement(f"w:{side}")
        mar.set(_qn("w:w"), str(Mm(CELL_MARGIN_MM).twips))
        mar.set(_qn("w:type"), "dxa")
        margins.append(mar)
    look = grid._tbl.tblPr.find(_qn("w:tblLook"))  # tblCellMar comes before it in the schema
    if look is not None:
        look.addprevious(margins)
    else:
        grid._tbl.tblPr.append(margins)
    for i, (_, w) in enumerate(cols):
        grid.columns[i].width = Mm(w)
    for r, row in enumerate(grid.rows):
        header = r == 0
        values = [c for c, _ in cols] if header else rows[r - 1]
        tr_pr = row._tr.get_or_add_trPr()
        flag = OxmlElement("w:tblHeader" if header else "w:cantSplit")
        tr_pr.append(flag)
        for c, cell in enumerate(row.cells):
            cell.width = Mm(cols[c][1])
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            align = WD_ALIGN_PARAGRAPH.LEFT if c in left and not header \
                else WD_ALIGN_PARAGRAPH.CENTER
            par = _par(cell, indent=False, line=TABLE_LINE_PT, align=align, first=True)
            _run(par, str(values[c]), FONT_H1 if header else FONT_BODY, SIZE_TABLE)
            if header:
                _shade(cell, "#F2F2F2")
            elif fills and c in fills[r - 1]:
                _shade(cell, fills[r - 1][c])
    _par(doc, indent=False, line=TABLE_LINE_PT / 2)  # breathing space below the table


def _page_numbers(doc: Any) -> None:
    """'— 1 —' in 4号 宋体: odd pages right, even pages left, one character in (GB/T 9704 7.5)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.shared import Pt

    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
                          (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        par = _par(footer, indent=False, line=SIZE_PAGE * 1.2, align=align, first=True)
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            par.paragraph_format.right_indent = Pt(SIZE_PAGE)
        else:
            par.paragraph_format.left_indent = Pt(SIZE_PAGE)
        _run(par, "— ", FONT_PAGE, SIZE_PAGE)
        for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"),
                           ("end", None)):
            run = _run(par, "", FONT_PAGE, SIZE_PAGE)
            if kind:
                fld = OxmlElement("w:fldChar")
                fld.set(_qn("w:fldCharType"), kind)
                run._r.append(fld)
            elif text == " PAGE ":
                instr = OxmlElement("w:instrText")
                instr.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
                instr.text = text
                run._r.append(instr)
            else:
                run.text = text
        _run(par, " —", FONT_PAGE, SIZE_PAGE)


def _font_table(doc: Any) -> None:
    """Declare each Chinese font with its fallback (w:altName) and the GB2312 charset."""
    from lxml import etree

    part = next(p for p in doc.part.package.iter_parts()
                if str(p.partname) == "/word/fontTable.xml")
    root = etree.fromstring(part.blob)
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    for name, alt in (FONT_TITLE, FONT_BODY, FONT_H1, FONT_H2, FONT_PAGE):
        font = etree.SubElement(root, f"{w}font", {f"{w}name": name})
        etree.SubElement(font, f"{w}altName", {f"{w}val": alt})
        etree.SubElement(font, f"{w}charset", {f"{w}val": "86"})
        etree.SubElement(font, f"{w}family", {f"{w}val": "modern"})
        etree.SubElement(font, f"{w}pitch", {f"{w}val": "fixed"})
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def new_document(*, title: str, subject: str, keywords: str, created: datetime) -> Any:
    """An empty A4 document in the GB/T 9704 layout (margins, fonts, line pitch, page numbers)
    with reproducible properties, and its title: what the monthly memo and the review share."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    doc = Document()
    _setup(doc, title=title, subject=subject, keywords=keywords, created=created)
    par = _par(doc, indent=False, line=TITLE_LINE_PT, align=WD_ALIGN_PARAGRAPH.CENTER,
               first=False)
    _run(par, title, FONT_TITLE, SIZE_TITLE)
    _par(doc, indent=False)
    return doc


def document_bytes(doc: Any) -> bytes:
    """The .docx file's content."""
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def annex(doc: Any, title: str, lines: list[str]) -> None:
    """The body's 附件 line, then the 附件 on a page of its own.

    GB/T 9704 7.3.4: the body names its 附件 one blank line below the text; 7.3.7: the 附件
    starts a new page, 附件 in 黑体 at the top left, its title centred on the third line.
    """
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    _par(doc, indent=False)
    body(doc, f"附件：{title}")
    head = _par(doc, indent=False, outline=0)
    head.paragraph_format.page_break_before = True
    _run(head, "附件", FONT_H1)
    _par(doc, indent=False)
    _run(_par(doc, indent=False, line=TITLE_LINE_PT, align=WD_ALIGN_PARAGRAPH.CENTER),
         title, FONT_TITLE, SIZE_TITLE)
    _par(doc, indent=False)
    for line in lines:
        body(doc, line)


def _setup(doc: Any, *, title: str, subject: str, keywords: str, created: datetime) -> None:
    from docx.enum.text import WD_LINE_SPACING
    from docx.shared import Mm, Pt

    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance, section.footer_distance = Mm(15), Mm(24)
    defaults = doc.styles.element.find(_qn("w:docDefaults"))
    rpr = defaults.find(_qn("w:rPrDefault")).find(_qn("w:rPr"))
    _set_fonts(rpr, FONT_BODY[0])
    lang = rpr.find(_qn("w:lang"))
    if lang is not None:  # Chinese line breaking and punctuation compression
        lang.set(_qn("w:eastAsia"), "zh-CN")
    normal = doc.styles["Normal"]
    normal.font.size = Pt(SIZE_BODY)
    _set_fonts(normal.element.get_or_add_rPr(), FONT_BODY[0])
    fmt = normal.paragraph_format
    fmt.line_spacing, fmt.line_spacing_rule = Pt(LINE_PT), WD_LINE_SPACING.EXACTLY
    fmt.space_before = fmt.space_after = Pt(0)
    _font_table(doc)
    _page_numbers(doc)
    props = doc.core_properties
    props.title, props.subject = title, subject
    props.author = props.last_modified_by = "gkreport"
    props.keywords, props.comments, props.category = keywords, "", ""
    props.created = props.modified = props.last_printed = created
    props.revision = 1


def docx_bytes(ctx: dict[str, Any], *, created: datetime) -> bytes:
    """The memo as a GB/T 9704-style .docx, in memory, from the memo context."""
    doc = new_document(title=ctx["title"], subject=ctx["plan_title"],
                       keywords=f"简报 {ctx['period']}", created=created)
    ov = ctx["overview"]
    heading(doc, "一、总体情况")
    body(doc, ov["sentence"] + "".join((ctx["mom"] or {}).get("sentences", [])))
    body(doc, ov["units_sentence"])

    heading(doc, "二、分类推进情况")
    cats = ctx["categories"]
    table(doc, CATEGORY_COLS,
          [[c["name"], c["total"], c["done"], c["on_track"], c["behind"], c["not_started"],
            c["overdue"], c["done_pct"]] for c in cats],
          fills=[{6: STATUS_HEX[OVERDUE]} if c["overdue"] else {} for c in cats], left=(0,))
    if ctx["categories_sentence"]:
        body(doc, ctx["categories_sentence"])

    hl = ctx["highlights"]
    heading(doc, "三、工作亮点")
    if hl["newly_done"]:
        body(doc, hl["sentence"])
        for t in hl["newly_done"]:
            body(doc, f"序号{t['no']}：{t['text']}（{t['units']}）。")
        if hl["quotes"]:
            body(doc, hl["quotes_intro"] + hl["quotes_text"])
    else:
        body(doc, hl["sentence"] + hl["quotes_intro"] + hl["quotes_text"])

    heading(doc, "四、逾期及滞后事项")
    body(doc, ctx["delays_sentence"])
    if ctx["delay_rows"]:
        table(doc, DELAY_COLS,
              [[d["no"], d["text"], d["deadline_text"], d["label"], d["reason_short"]]
               for d in ctx["delay_rows"]],
              fills=[{3: d["fill"]} for d in ctx["delay_rows"]], left=(1, 4))
    if ctx["delays_more"]:
        body(doc, ctx["delays_more"])

    iss = ctx["issues"]
    heading(doc, "五、存在问题")
    body(doc, iss["sentence"] + iss["points_text"] + iss["more"])

    heading(doc, "六、下步工作建议")
    for s in ctx["suggestions"]:
        lead(doc, f"（{s['no_cn']}）", s["text"])
    if ctx["annex"]:  # it does not count toward the memo's two pages
        annex(doc, ctx["annex_title"], ctx["annex_lines"])
    return document_bytes(doc)

"""The review's memo as a Word document, in the monthly memo's GB/T 9704 layout: built from
`render.memodocx`'s blocks (document, headings, paragraphs, tables) and the review context's
ready strings. python-docx is imported inside those blocks: importing this loads none."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gkreport.render.memodocx import (
    body,
    document_bytes,
    heading,
    lead,
    new_document,
    table,
)

# Column widths in mm, each table 156 mm (the type area), as the monthly memo's.
FINISHED_COLS = (("序号", 10), ("任务", 96), ("首次完成", 26), ("是否按期", 24))
OPEN_COLS = (("序号", 10), ("任务", 44), ("时间节点", 17.5), ("状态", 21),
             ("未完成单位及原因", 63.5))
UNIT_COLS = (("排名", 10), ("单位", 36), ("应报", 13.5), ("按时", 13.5), ("逾期", 13.5),
             ("未报送", 16), ("退回", 13.5), ("一次通过率", 22), ("得分", 18))
TREND_COLS = (("期次", 20), ("已完成", 17), ("按计划推进", 24), ("滞后", 15), ("未启动", 17),
              ("逾期", 15), ("未报送单位", 24), ("按时报送率", 24))


def review_docx(ctx: dict[str, Any], *, created: datetime) -> bytes:
    """The review's memo as a .docx, in memory, from `review.memo.review_context`."""
    doc = new_document(title=ctx["title"], subject=ctx["plan_title"],
                       keywords=f"总结 {ctx['label']}", created=created)
    body(doc, ctx["intro"])
    ov = ctx["overview"]
    heading(doc, "一、总体情况")
    body(doc, ov["sentence"])
    if ov["versions_sentence"]:
        body(doc, ov["versions_sentence"])
    body(doc, ov["units_sentence"])

    fin = ctx["finished"]
    heading(doc, "二、任务完成情况")
    body(doc, fin["sentence"])
    if fin["rows"]:
        table(doc, FINISHED_COLS, [[r["no"], r["text"], r["when"], r["on_time"]]
                                   for r in fin["rows"]], left=(1,))
    if fin["more"]:
        body(doc, fin["more"])

    op = ctx["open"]
    heading(doc, "三、未完成任务")
    body(doc, op["sentence"])
    if op["rows"]:
        table(doc, OPEN_COLS, [[r["no"], r["text"], r["deadline_text"], r["status"], r["line"]]
                               for r in op["rows"]],
              fills=[{3: r["fill"]} for r in op["rows"]], left=(1, 4))
    if op["more"]:
        body(doc, op["more"])

    units = ctx["units"]
    heading(doc, "四、各单位报送情况")
    body(doc, units["ranking"] + units["cards"])
    if units["rows"]:
        body(doc, units["table_note"])
        table(doc, UNIT_COLS, [[r["rank"], r["name"], r["expected"], r["on_time"], r["late"],
                                r["missing"], r["returned"], r["first_pass"], r["score"]]
                               for r in units["rows"]], left=(1,))

    trend = ctx["trend"]
    heading(doc, "五、逐月推进情况")
    body(doc, trend["sentence"])
    table(doc, TREND_COLS, [[r["period"], r["done"], r["on_track"], r["behind"],
                             r["not_started"], r["overdue"], r["missing"], r["on_time_pct"]]
                            for r in trend["rows"]])

    heading(doc, f"六、{ctx['suggestions_title']}")
    for s in ctx["suggestions"]:
        lead(doc, f"（{s['no_cn']}）", s["text"])
    return document_bytes(doc)

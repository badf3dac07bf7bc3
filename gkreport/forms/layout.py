"""The unit form's layout: the contract between `forms` (writes) and `ingest` (reads)."""

from __future__ import annotations

from dataclasses import dataclass

# Reading limits for hostile files (ingest reads them here): one definition, for plans and
# forms alike.
from gkreport.core.limits import (  # noqa: F401 - part of the contract
    MAX_COLS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    MAX_UNZIPPED_BYTES,
)

FORM_VERSION = "1"

GUIDE_SHEET = "填报说明"
FORM_SHEET = "填报表"
LISTS_SHEET = "_选项"  # hidden: dropdown choices (not inline: Excel caps those at 255 chars)
META_SHEET = "_gkreport"  # very hidden: identifies the form whatever the file is renamed to

# Zero-based rows of the 填报表 sheet.
TITLE_ROW = 0
UNIT_ROW = 1  # 填报单位 | <unit>
REPORTER_ROW = 2  # 填报人 | … | 联系电话 | … | 填报日期 | …
HEADER_ROW = 4
FIRST_DATA_ROW = 5

# Labels of the reporter block; the value is the first non-empty cell to the label's right.
LABEL_UNIT = "填报单位"
LABEL_REPORTER = "填报人"
LABEL_PHONE = "联系电话"
LABEL_DATE = "填报日期"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    header: str
    width: float
    fill_in: bool
    synonyms: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column("no", "序号", 6, False, ("编号", "任务序号", "序")),
    Column("category", "一级指标", 14, False, ("任务类别", "类别", "分类")),
    Column("text", "任务内容", 40, False, ("二级指标", "工作任务", "具体任务", "任务", "工作内容")),
    Column("units", "责任单位", 18, False, ("牵头单位", "责任部门")),
    Column("deadline", "时间节点", 10, False, ("完成时限", "完成时间", "时限")),
    Column("prev_status", "上期状态", 10, False, ("上月状态",)),
    Column("prev_note", "上期进展情况", 28, False, ("上月进展情况", "上月进展")),
    Column("status", "完成状态", 12, True, ("状态", "完成情况", "推进状态", "进展状态")),
    Column("progress", "完成进度(%)", 10, True, ("完成进度", "进度", "完成进度（%）", "完成比例", "进度(%)")),
    Column("note", "进展情况", 40, True, ("工作进展", "推进情况", "进展", "工作进展情况", "本月进展", "本月进展情况")),
    Column("issues", "存在问题", 24, True, ("问题", "存在的问题", "困难问题", "存在问题及原因")),
    Column("next_steps", "下步计划", 24, True, ("下一步计划", "下步工作计划", "下一步工作", "下步打算")),
)
COLUMN_INDEX: dict[str, int] = {c.key: i for i, c in enumerate(COLUMNS)}

# Keys of the metadata sheet (column A) and of the custom document properties (prefixed).
META_KEYS = ("gkreport_form", "unit", "period", "fingerprint", "version", "generated_at", "year")
META_PROPERTY_PREFIX = "gkreport."


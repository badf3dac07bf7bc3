"""One problem type for every stage, its message catalogue, and the one exception."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "错误"
    WARNING = "警告"


# code -> (severity, message template, fix template). Codes never change once released;
# templates use str.format with the keyword arguments given to `problem()`.
CATALOGUE: dict[str, tuple[Severity, str, str]] = {
    # --- plan ---
    "plan-unreadable": (Severity.ERROR, "无法读取计划文件：{detail}", "请确认文件是完好的 .xlsx/.docx/.txt 任务分解表"),
    "plan-no-tasks": (Severity.ERROR, "文件中找不到任务分解表：{detail}", "请提供含“序号、一级指标、二级指标、责任单位、时间节点”等列的表格，或带“一、”“1.”编号的正文"),
    "plan-missing-column": (Severity.ERROR, "任务分解表缺少“{column}”列（可用列名：{synonyms}）", "请在表头中加入“{column}”列"),
    "plan-missing-sheet": (Severity.ERROR, "计划工作簿缺少工作表“{name}”", "请加入工作表“{name}”，或用 gkreport plan import 重新生成"),
    "plan-bad-deadline": (Severity.ERROR, "时间节点“{text}”无法识别", "请写成“全年”“6月底前”“上半年”“第三季度”“2025年9月”“长期坚持”或具体日期"),
    "plan-sheet-too-long": (Severity.ERROR, "工作表有 {rows} 行，超过上限 {limit} 行，未读取", "请删除表格下方多余的行，或拆分计划"),
    "plan-unknown-unit": (Severity.ERROR, "责任单位“{name}”不在单位名录中{hint}", "请在单位名录中登记该单位（或其别名），或改正单位名称"),
    "plan-no-units": (Severity.ERROR, "任务没有责任单位", "请填写责任单位"),
    "plan-duplicate-no": (Severity.ERROR, "序号 {no} 重复", "请为每项任务填写唯一的序号"),
    "plan-bad-no": (Severity.ERROR, "序号“{text}”不是整数", "请填写整数序号"),
    "plan-empty-task": (Severity.ERROR, "任务内容为空", "请填写二级指标（任务内容）"),
    "plan-no-deadline-column": (Severity.WARNING, "表格没有时间节点列，全部任务按“全年”处理", "如有具体时限，请在计划工作簿中补充“时间节点”列"),
    "plan-no-year": (Severity.WARNING, "未能从标题识别年度，按 {year} 年处理", "请用 --year 指定年度，或在标题中写明“XXXX年”"),
    "plan-unknown-kind": (Severity.WARNING, "单位“{name}”的类别“{kind}”无法识别，按“其他”处理", "类别应为：区政府部门、街镇、其他"),
    "plan-bad-collective": (Severity.ERROR, "集合名称“{name}”的成员规则“{rule}”无法识别", "成员规则可写：类别=街镇、类别=区政府部门、开放，或用顿号分隔的单位名称"),
    "plan-empty-deadline": (Severity.ERROR, "任务没有填写时间节点", "请填写时间节点，例如“全年”“6月底前”“长期坚持”"),
    "plan-no-deadline-text": (Severity.WARNING, "{count} 项任务在正文中未写明完成时限，按“全年”处理", "如有具体时限，请在计划工作簿的“时间节点”列中改正"),
    "plan-renumbered": (Severity.WARNING, "原表序号在各类别内分别编号，已按顺序统一重新编号为 1–{count}", "填报表按新序号对应任务；如需保留原序号，请在计划工作簿中改为全表唯一的序号"),
    "plan-bad-setting": (Severity.WARNING, "设置“{name}”的值“{value}”无效，已按默认值处理", "请在计划工作簿的“设置”工作表中填写{hint}"),
    "plan-duplicate-unit": (Severity.ERROR, "单位名录中“{name}”重复出现（名称或别名与“{other}”相同）", "请删除重复的单位，或改正别名"),
    "plan-unknown-units": (Severity.ERROR, "{count} 个责任单位不在单位名录中：{names}", "请在单位名录中登记这些单位（或其别名），或改正单位名称；如果是新单位的计划，可用 gkreport plan import --new-registry 按计划新建单位名录"),
    "plan-units-etc": (Severity.WARNING, "{count} 项任务的责任单位以“{tails}”结尾，只计入列明的单位（第 {rows} 行）", "“等……”不要求任何单位报送；如需其他单位报送，请在计划工作簿的责任单位中列明"),
    "plan-no-expected-units": (Severity.WARNING, "{count} 项任务不要求任何单位报送（序号 {nos}），责任单位只写了“{terms}”", "这些任务不会出现在任何填报表中；如需报送，请在责任单位中列明具体单位，或在单位名录、集合名称中登记其成员"),
    "plan-same-text": (Severity.WARNING, "{count} 项任务的内容相同：“{text}”（序号 {nos}）", "可能把标题列（如“工作任务”）当成了任务内容；请核对原表表头，把写具体要求的列命名为“具体要求”后重新导入"),
    "plan-misaligned-row": (Severity.ERROR, "本行与表头对不上：“{column}”处是一段 {length} 字的文字（“{excerpt}…”），本行未导入", "请核对原文件中该行是否缺少或多出单元格，改正后重新导入，或在计划工作簿中补上该任务"),
    "plan-header-no-rows": (Severity.ERROR, "找到表头（{header}），但没有找到任务行", "请确认表头下方有任务行（每行写明任务内容和责任单位）；如表格是图片或扫描件，请改用文字版"),
    "plan-progress-report": (Severity.ERROR, "这是进度报告，不是任务分解表：{detail}", "请导入正式印发的工作要点或任务分解表；各单位报回的进度表请放入 input/期次/ 后运行 gkreport check"),
    "plan-year-required": (Severity.ERROR, "未能从标题或正文中识别计划年度", "请用 --year 指定年度，例如 gkreport plan import 文件名 --year 2025"),
    "plan-new-registry": (Severity.WARNING, "单位名录按计划新建：{count} 个单位（{kinds}），其中 {new} 个在“备注”中标为“新增，请核对”", "请在计划工作簿的“单位名录”中核对单位名称和类别（类别按名称推测），补充别名、联系人和联系电话"),
    "plan-empty-collective": (Severity.WARNING, "集合名称“{name}”（{rule}）在单位名录中没有成员，写“{name}”的任务不要求任何单位报送", "请在单位名录中登记其成员单位（类别填“{kind}”），或在集合名称中直接列出成员"),
    # --- reading returned forms ---
    "file-unreadable": (Severity.ERROR, "文件无法读取（{detail}）", "请让单位用 Excel/WPS 重新保存为 .xlsx 后再报送"),
    "file-encrypted": (Severity.ERROR, "文件已加密或设置了打开密码", "请让单位取消文件打开密码后重新报送"),
    "file-too-large": (Severity.ERROR, "文件过大或解压后过大（{detail}），为安全起见未读取", "请让单位在原填报表上填写后重新报送，勿粘贴大量内容"),
    "file-not-spreadsheet": (Severity.ERROR, "不是电子表格文件（{detail}）", "请报送 .xlsx、.xls、.ods 或 .xlsm 格式的填报表"),
    "form-unidentified": (Severity.ERROR, "无法识别是哪个单位的填报表", "请使用下发的填报表，或在“填报单位”处填写单位全称，或以单位名称命名文件"),
    "form-wrong-period": (Severity.ERROR, "这是 {found} 的填报表，不是本期（{period}）的", "请使用本期下发的填报表重新填报"),
    "form-wrong-plan": (Severity.ERROR, "填报表对应的任务分解表与当前计划不一致（计划已更新）", "请使用本期最新下发的填报表重新填报"),
    "form-no-sheet": (Severity.ERROR, "找不到填报表工作表或表头（需要“序号”“完成状态”“进展情况”等列）", "请使用下发的填报表，不要删除表头"),
    "form-missing-column": (Severity.ERROR, "填报表缺少“{column}”列", "请恢复下发填报表中的“{column}”列"),
    "form-duplicate": (Severity.WARNING, "本单位有多份填报表，已采用较新的“{kept}”，本文件未采用", "如需采用本文件，请删除或移走较新的那一份"),
    "form-unknown-unit": (Severity.ERROR, "填报单位“{name}”不在单位名录中", "请在“填报单位”处填写单位全称"),
    "unknown-status": (Severity.ERROR, "完成状态“{value}”无法识别，本行暂记为“待核实”", "请从下拉列表选择：已完成、按计划推进、滞后、未启动"),
    "missing-status": (Severity.ERROR, "未填写完成状态，本行暂记为“待核实”", "请从下拉列表选择：已完成、按计划推进、滞后、未启动"),
    "missing-progress-note": (Severity.ERROR, "完成状态为“{status}”，但进展情况为空", "请填写本月工作进展"),
    "bad-progress": (Severity.ERROR, "完成进度“{value}”不是 0–100 之间的数字", "请填写 0 到 100 的整数，例如 80"),
    "unknown-task": (Severity.ERROR, "第 {row} 行（序号“{no}”）不是本单位的任务", "请删除该行，或核对序号是否填错"),
    "task-text-mismatch": (Severity.ERROR, "序号 {no} 的任务内容与下发的不一致，可能插入或删除了行", "请按下发填报表的顺序填写，不要改动序号和任务内容"),
    "missing-task": (Severity.ERROR, "缺少序号 {no} 的任务：{text}", "请补回该任务行并填写进展"),
    "duplicate-task": (Severity.ERROR, "序号 {no} 出现了多次，已采用第一次出现的行", "请删除重复的行"),
    "done-below-100": (Severity.WARNING, "完成状态为“已完成”，但完成进度只有 {value}%", "请核对：已完成的任务进度应为 100"),
    "behind-without-issue": (Severity.WARNING, "完成状态为“滞后”，但未说明存在问题", "请在“存在问题”中说明滞后原因"),
    "stale-progress": (Severity.WARNING, "进展情况与上月相同，没有更新", "请填写本月新的工作进展"),
    "missing-reporter": (Severity.WARNING, "未填写{field}", "请填写{field}，便于联系核实"),
    "form-extra-rows": (Severity.WARNING, "表格下方第 {row} 行有内容“{value}”，不是任务行，未采用", "如为补充说明，请写在“存在问题”或“下步计划”中"),
    "form-unit-conflict": (Severity.ERROR, "无法确定本表属于哪个单位：{evidence}；暂按“{chosen}”读取", "请与“{chosen}”“{other}”核实本表属于哪个单位：属于“{other}”的，请其用本单位的填报表重新填报；属于“{chosen}”的，请把填报单位改为“{chosen}”"),
    "form-name-mismatch": (Severity.WARNING, "文件名“{name}”指向“{other}”，但本表按{how}认定为“{chosen}”", "请确认本表属于“{chosen}”；如属于“{other}”，请其用本单位的填报表重新填报"),
    "form-period-unknown": (Severity.WARNING, "无法确认这是哪一期的填报表（表单信息、文档属性和标题中都没有期次），已按本期（{period}）读取", "请核对是否为本期的填报表；建议使用本期下发的填报表"),
    "form-duplicate-tie": (Severity.WARNING, "本单位有多份填报表，填报日期和文件时间都无法区分先后，已采用“{kept}”，本文件未采用", "请确认应采用哪一份，并把另一份移出本期文件夹"),
    "form-stray-row": (Severity.ERROR, "第 {row} 行在表格内，没有序号，不是任务行，其内容未采用：{value}", "如为某项任务的补充说明，请写在该任务所在行的“进展情况”“存在问题”或“下步计划”单元格内，然后删除本行"),
    "continuation-row": (Severity.WARNING, "第 {row} 行没有序号，视为上方{target}的续行，{outcome}：{value}", "请把补充内容写在{target}的同一单元格内（单元格内换行按 Alt+Enter），不要插入新行"),
    "unnumbered-task": (Severity.ERROR, "第 {row} 行{text}没有序号，不是下发的任务，未采用", "如为下发的任务，请补填正确的序号；如为新增工作，请写入相关任务的“进展情况”并删除本行"),
    "form-old-plan": (Severity.WARNING, "本表按旧版任务分解表生成，已按现行计划读取；新增任务请另行填报", "请下次使用本期最新下发的填报表"),
    "form-old-plan-task": (Severity.ERROR, "第 {row} 行（序号“{no}”）的任务在现行计划中已调整或取消：{text}", "该任务已调整，请按最新下发的填报表填报"),
    "status-reverted": (Severity.WARNING, "序号 {no} 的任务在{done}已报“已完成”，本期报“{status}”", "请核实：如确已完成，请改为“已完成”；如需继续推进，请在“存在问题”中说明原因"),
    "register-bad-row": (Severity.WARNING, "收文登记第 {row} 行无法识别（{value}），该行未采用", "请按“文件,收到时间”填写，例如：区财政局.xlsx,2025-07-03 09:30"),
    "evidence-no-unit": (Severity.WARNING, "佐证材料“{name}”无法判断属于哪个单位", "请以单位名称命名该文件，或放入以单位名称命名的子文件夹"),
    "file-read-failed": (Severity.ERROR, "读取该文件时程序出错，本文件未采用", "请让单位用 Excel/WPS 重新保存为 .xlsx 后再报送；如仍出错，请将该文件提供给 gkreport 维护人员"),
    "sheet-not-read": (Severity.WARNING, "工作表“{name}”的内容未读取（{detail}）", "如该表中有需要报送的内容，请填写到“{form}”工作表中"),
    "form-extra-columns": (Severity.WARNING, "表格中增加的 {columns} 不是填报表的列，其中 {count} 个单元格的内容未读取", "如需补充说明，请写入“进展情况”“存在问题”或“下步计划”列，不要增加列"),
    "not-started-with-progress": (Severity.WARNING, "完成状态为“未启动”，但完成进度为 {value}%", "请核对：未启动的任务进度应为 0；如已开展，请改为“按计划推进”或“滞后”"),
    # --- writing forms ---
    "forms-unknown-unit": (Severity.ERROR, "“{name}”不是本计划需要填报的单位{hint}", "请核对单位名称或简称（见计划工作簿的“单位名录”工作表）"),
    "demo-no-forms": (Severity.ERROR, "在 {path} 中没有找到本期的填报表，无法生成演示数据", "请先运行 gkreport forms --period 期次"),
    # --- workspace ---
    "no-period": (Severity.ERROR, "在 {path} 下没有找到期次文件夹（如 2025-06）", "请用 --period 指定期次，或把回收的填报表放入 input/YYYY-MM/"),
    "no-plan": (Severity.ERROR, "找不到计划工作簿 {path}", "请用 gkreport plan import 从正式文件生成，或用 -w 指定工作目录"),
    "no-input": (Severity.ERROR, "没有找到本期的回收文件夹 {path}", "请把各单位报回的填报表放入 input/{period}/"),
    "no-forms": (Severity.ERROR, "{path} 中没有可用的填报表（发现 {found} 个文件，均无法采用），本次未汇总", "请先运行 gkreport check --period {period} 查看原因"),
    "workspace-busy": (Severity.ERROR, "另一个 gkreport 正在此工作目录运行，本次未执行", "请等待其结束后再运行"),
    "plan-changed": (Severity.ERROR, "{period} 汇总时使用的任务分解表与当前计划不一致", "请重新运行 gkreport consolidate --period {period}"),
    "output-locked": (Severity.ERROR, "无法写入“{name}”", "该文件可能正在 Excel 或 WPS 中打开，请先关闭该文件后重新运行"),
    "disk-full": (Severity.ERROR, "磁盘空间不足，无法写入 {path}", "请清理磁盘空间后重新运行；历史记录库和上次的输出均保持原样，无需改名或恢复"),
    "no-permission": (Severity.ERROR, "没有权限写入或读取 {path}", "请检查该文件夹的权限（是否只读、是否有权访问），或用 -w 指定其他工作目录"),
    "path-missing": (Severity.ERROR, "找不到 {path}（可能在运行过程中被移走或改名）", "请确认该文件或文件夹仍在原处后重新运行"),
    "os-error": (Severity.ERROR, "无法读写 {path}（{detail}）", "请检查该文件或文件夹后重新运行"),
    "worker-died": (Severity.ERROR, "写汇总表的进程意外退出，本期未汇总，上次的结果保持不变", "多为内存不足；请关闭其他程序后重新运行"),
    "demo-input-not-empty": (Severity.ERROR, "{path} 中已有 {count} 个文件，演示数据会覆盖同名的回收表，本次未执行", "请换一个期次，或确认后加 --force"),
    # --- history store (output/history.sqlite) ---
    "history-unreadable": (Severity.ERROR, "历史记录库“{path}”已损坏或不是 SQLite 数据库（{detail}）", "请将该文件改名备份后重新运行（将新建历史记录库），或用备份文件替换它"),
    "history-foreign": (Severity.ERROR, "“{path}”不是 gkreport 的历史记录库", "请将该文件移走或改名，gkreport 会新建历史记录库"),
    "history-newer": (Severity.ERROR, "历史记录库“{path}”由更新版本的 gkreport 创建（格式版本 {found}，本程序支持 {supported}）", "请升级 gkreport 后再运行"),
    "history-bad-value": (Severity.ERROR, "历史记录库“{path}”中有无法识别的内容（{detail}），可能被其他程序改动过", "请用备份替换该文件；或把它改名保存后重新汇总各期（将新建历史记录库）"),
    "history-busy": (Severity.ERROR, "历史记录库“{path}”正被另一个 gkreport 命令使用，等待 {seconds} 秒后仍未释放", "请等其他命令结束后重试"),
    "history-missing-period": (Severity.ERROR, "历史记录库中没有 {period} 期的记录", "请先运行 gkreport consolidate --period {period}"),
    "history-empty": (Severity.ERROR, "历史记录库“{path}”中还没有已汇总的期次", "请先运行 gkreport consolidate --period 期次 汇总各月的填报表"),
    # --- reviews (half-year, quarter, year) ---
    "review-no-periods": (Severity.ERROR, "{span}（{first}至{last}）没有已汇总的期次，无法总结", "请先用 gkreport consolidate --period 期次 汇总该时段的月份{hint}"),
    # --- memo and notice templates ---
    "template-error": (Severity.ERROR, "模板 {name} 第 {line} 行：{detail}", "请改正模板 {path}（可参照 gkreport 内置的同名模板），或删除工作区 templates/ 中的该文件以使用内置模板"),
}


@dataclass(frozen=True, slots=True)
class Problem:
    """A problem found in the plan or in a returned form, located down to the cell."""

    code: str
    severity: Severity
    message: str
    fix: str = ""
    file: str = ""
    sheet: str = ""
    cell: str = ""
    row: int | None = None
    unit: str = ""
    task_no: int | None = None  # the task the problem is about, when it is about one

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def location(self) -> str:
        """Human-readable place: file / sheet / cell, whatever is known."""
        parts = [p for p in (self.file, self.sheet, self.cell) if p]
        if not parts and self.row is not None:
            return f"第 {self.row} 行"
        if self.row is not None and not self.cell:
            parts.append(f"第 {self.row} 行")
        return " / ".join(parts)

    def line(self) -> str:
        """One Chinese line for the terminal."""
        where = self.location()
        head = f"[{self.severity}] {where}：" if where else f"[{self.severity}] "
        sep = "" if self.message.endswith(("。", "？", "！", "?", "!")) else "。"
        return f"{head}{self.message}" + (f"{sep}{self.fix}" if self.fix else "")


def problem(code: str, *, file: str = "", sheet: str = "", cell: str = "", row: int | None = None,
            unit: str = "", task_no: int | None = None, **values: object) -> Problem:
    """Build a Problem from the catalogue; unknown codes are a programming error."""
    severity, message, fix = CATALOGUE[code]
    # `row` is both a location field and a template value ("第 {row} 行").
    return Problem(code=code, severity=severity, message=message.format(row=row, **values),
                   fix=fix.format(row=row, **values), file=file, sheet=sheet, cell=cell, row=row,
                   unit=unit, task_no=task_no)


class GkreportError(Exception):
    """Raised only when a stage cannot go on; carries the problem(s) to show the user."""

    def __init__(self, *problems: Problem) -> None:
        super().__init__("; ".join(p.line() for p in problems))
        self.problems = problems

    def __reduce__(self) -> tuple[type[GkreportError], tuple[Problem, ...]]:
        # Rebuilt from its problems when it crosses a process boundary (worker processes).
        return (GkreportError, self.problems)


def a1(row: int, col: int) -> str:
    """Zero-based (row, col) to an Excel A1 reference; the one place off-by-one lives."""
    letters = ""
    n = col + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"

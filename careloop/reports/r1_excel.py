"""R1 as an Excel sheet laid out like the paper form (seed 003 病人回访科室第 N 月度统计表):
the title, the 科室 / 统计期间 / 上报人 line, the two-level merged headers, one row per department
(and 合计 when there are several), and the footer "（一式两份，科室存档）".

Written with openpyxl (a styled form of a few dozen rows; xlsxwriter is for large tables).
Counts are numbers; rates are the text the paper shows ("85.71%", "—" without data), so the
sheet reads exactly like the screen and the PDF. No cell is a formula.
"""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from careloop.reports.r1 import Table, footers, paper_headers

THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center")

TITLE_ROW, INFO_ROW, HEAD_ROW, LEAF_ROW, FIRST_DATA_ROW = 1, 2, 3, 4, 5


def column_count() -> int:
    return 1 + sum(len(leaves) for _top, leaves in paper_headers())


def _merge(ws, first_row, first_col, last_row, last_col, value, *, font=None, align=CENTER):
    cell = ws.cell(row=first_row, column=first_col, value=value)
    if (first_row, first_col) != (last_row, last_col):
        ws.merge_cells(
            start_row=first_row, start_column=first_col, end_row=last_row, end_column=last_col
        )
    cell.alignment = align
    if font is not None:
        cell.font = font
    return cell


def _box(ws, first_row, last_row, last_col):
    for row in ws.iter_rows(min_row=first_row, max_row=last_row, min_col=1, max_col=last_col):
        for cell in row:
            cell.border = BOX
            if cell.alignment != LEFT:
                cell.alignment = CENTER


def workbook(table: Table, *, reporter: str) -> Workbook:
    width = column_count()
    book = Workbook()
    ws = book.active
    ws.title = (table.period.key + " " + _("科室月度统计"))[:31]

    _merge(ws, TITLE_ROW, 1, TITLE_ROW, width, table.title, font=Font(bold=True, size=16))
    ws.row_dimensions[TITLE_ROW].height = 30
    # The paper's line under the title: 科室：…  上报人：…  (and when the month is).
    third = width // 3
    info = _("科室：%(name)s") % {"name": table.department_label}
    if table.policy is not None:
        info += _("（回访制度：%(name)s）") % {"name": table.policy.name}
    period = _("统计期间：%(period)s") % {"period": table.period_text}
    _merge(ws, INFO_ROW, 1, INFO_ROW, third, info, align=LEFT)
    _merge(ws, INFO_ROW, third + 1, INFO_ROW, 2 * third, period, align=LEFT)
    _merge(ws, INFO_ROW, 2 * third + 1, INFO_ROW, width, _("上报人：%(name)s") % {"name": reporter},
           align=LEFT)  # fmt: skip

    bold = Font(bold=True)
    _merge(ws, HEAD_ROW, 1, LEAF_ROW, 1, _("科室"), font=bold)
    col = 2
    for top, leaves in paper_headers():
        if leaves == [top]:
            _merge(ws, HEAD_ROW, col, LEAF_ROW, col, top, font=bold)
        else:
            _merge(ws, HEAD_ROW, col, HEAD_ROW, col + len(leaves) - 1, top, font=bold)
            for i, leaf in enumerate(leaves):
                ws.cell(row=LEAF_ROW, column=col + i, value=leaf).font = bold
        col += len(leaves)
    ws.row_dimensions[HEAD_ROW].height = 32

    row_no = FIRST_DATA_ROW
    for row in table.all_rows:
        label = ws.cell(row=row_no, column=1, value=row.label)
        label.font = bold if row.is_total else Font()
        label.data_type = "s"  # a department named "=…" stays text, never a formula
        for i, cell in enumerate(row.paper_cells(), start=2):
            # Plain counts are numbers; rates and "count（rate）" cells are the paper's text.
            value = cell.value if cell.kind == "count" else cell.text
            ws.cell(row=row_no, column=i, value=value)
        row_no += 1
    _box(ws, HEAD_ROW, row_no - 1, width)

    _merge(ws, row_no + 1, 1, row_no + 1, width, footers()[0], align=LEFT)

    ws.column_dimensions["A"].width = 16
    for c in range(2, width + 1):
        ws.column_dimensions[get_column_letter(c)].width = 9
    for c in (5, 6):  # 电话(率) / 上门(率) hold "3（75.00%）"
        ws.column_dimensions[get_column_letter(c)].width = 12
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=2)
    return book


def xlsx_bytes(table: Table, *, reporter: str) -> bytes:
    out = io.BytesIO()
    workbook(table, reporter=reporter).save(out)
    return out.getvalue()

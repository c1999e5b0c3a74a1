"""R1 on paper: the monthly department table as a PDF (A4 landscape, Noto Sans CJK SC) with the
form's two copies on two pages — "（一式两份，科室存档）" and "（一式两份，上报医务科）" (seed 003)."""

from __future__ import annotations

from django.template.loader import render_to_string

from careloop.notify.letters import html_to_pdf
from careloop.reports.r1 import Table, footers, paper_headers

# Column widths (mm) on A4 landscape (277 mm inside the margins), in ``paper_headers`` order:
# 科室, 出院人数, 回访人数, 回访率, 电话(率), 上门(率), 满意率, then per dimension 很好 好 一般 差
# 满意率 — counts narrow, rates wide enough for "100.00%", 电话/上门 for "12（100.00%）".
WIDTHS = [24, 10, 10, 13, 19, 19, 13] + [7, 7, 7, 7, 13] * 4


def column_widths() -> list[float]:
    assert len(WIDTHS) == 1 + sum(len(leaves) for _top, leaves in paper_headers())
    return WIDTHS


def pdf_bytes(table: Table, *, reporter: str) -> bytes:
    html = render_to_string(
        "reports/monthly_pdf.html",
        {
            "table": table,
            "headers": paper_headers(),
            "reporter": reporter,
            "copies": footers(),
            "widths": column_widths(),
        },
    )
    return html_to_pdf(html)

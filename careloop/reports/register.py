"""R2: the follow-up register (病人回访登记表, seed 003) of one department for a date range.

One row per completed follow-up of the department whose completion falls in the range, in the
order the follow-ups were made, with the columns of the paper form: 回访时间 住院号 姓名 性别 年龄
住院诊断 出院时间 目前病情（康复情况） 意见或建议 总评价（很好/好/一般/差） 回访人员.

The register lists follow-ups by the day they were made (the paper is filled in as calls are
made), unlike R1, which attributes a late call to the month its window closed (R5); a register
for a calendar month can therefore hold a call that R1 counts in the month before.

A follow-up completed without a record (the patient's own answers through a survey link) is
listed too, with the questionnaire's overall rating and no agent — it was a follow-up done.

The register names patients, so the caller checks the patient permission (leadership has none)
and the department scope (O3); phone numbers and addresses are never on it.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import F, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from careloop.followup.choices import Rating, TaskStatus
from careloop.reports.periods import Period

# The paper's 总评价 columns, in its order.
RATING_COLUMNS = tuple((value, str(label)) for value, label in Rating.choices)
TICK = "✓"
# A PDF of thousands of rows takes WeasyPrint minutes; a range that large is an Excel job.
PDF_MAX_ROWS = 3000


@dataclass(frozen=True)
class RegisterRow:
    task_id: int
    followed_at: dt.datetime  # local time
    visit_no: str
    name: str
    sex: str
    age: int | None
    diagnoses: str
    discharged_at: dt.datetime | None  # local time
    condition: str
    opinions: str
    overall: str  # a Rating value or ""
    by: str

    @property
    def overall_label(self) -> str:
        return str(Rating(self.overall).label) if self.overall else ""

    def ticks(self) -> list[str]:
        """The 总评价 cells: a tick under the one rating given."""
        return [TICK if value == self.overall else "" for value, _label in RATING_COLUMNS]


def register_tasks(
    period: Period, department_id: int, *, policies: Iterable[int] | None = None
) -> QuerySet:
    """The completed tasks of the register, annotated ``followed_at`` and ``overall_rating``.

    The caller has checked that ``department_id`` is in the user's scope.
    """
    from careloop.followup.models import FollowUpTask
    from careloop.patients.models import Diagnosis
    from careloop.surveys.models import Answer

    questionnaire_overall = (
        Answer.objects.filter(response__task=OuterRef("pk"), dimension="overall")
        .exclude(rating="")
        .order_by("-response__pk")
        .values("rating")[:1]
    )
    qs = FollowUpTask.objects.filter(
        department_id=department_id,
        status=TaskStatus.COMPLETED,
        completed_at__gte=period.start_dt(),
        completed_at__lt=period.end_dt(),
    )
    if policies:
        qs = qs.filter(policy_id__in=list(policies))
    return (
        qs.select_related("patient", "visit", "record", "record__by")
        .prefetch_related(
            Prefetch("visit__diagnoses", queryset=Diagnosis.objects.order_by("position", "pk"))
        )
        .annotate(
            followed_at=Coalesce(F("record__at"), F("completed_at")),
            answer_overall=Subquery(questionnaire_overall),
        )
        .order_by("followed_at", "pk")
    )


def _record(task):
    # A missing reverse one-to-one raises RelatedObjectDoesNotExist, an AttributeError.
    return getattr(task, "record", None)


def _diagnoses(visit) -> str:
    return "、".join(d.text or d.code for d in visit.diagnoses.all() if d.text or d.code)


def to_row(task) -> RegisterRow:
    record = _record(task)
    patient, visit = task.patient, task.visit
    followed = timezone.localtime(task.followed_at)
    discharged = timezone.localtime(visit.discharged_at) if visit.discharged_at else None
    # The paper's 年龄 is the age at discharge (at the follow-up for an outpatient visit).
    age = patient.age((discharged or followed).date())
    overall = (record.overall if record else "") or (task.answer_overall or "")
    return RegisterRow(
        task_id=task.pk,
        followed_at=followed,
        visit_no=visit.visit_no,
        name=patient.name,
        sex=str(patient.get_sex_display()),
        age=age,
        diagnoses=_diagnoses(visit),
        discharged_at=discharged,
        condition=record.condition if record else "",
        opinions=record.opinions if record else "",
        overall=overall,
        by=record.by.display_name if record else "",
    )


def register_rows(
    period: Period, department_id: int, *, policies: Iterable[int] | None = None
) -> list[RegisterRow]:
    return [to_row(t) for t in register_tasks(period, department_id, policies=policies)]


def title(hospital: str) -> str:
    return f"{hospital}病人回访登记表"


def date_line(period: Period) -> str:
    return f"{period.start:%Y-%m-%d} 至 {period.last:%Y-%m-%d}"


# ---------------------------------------------------------------------------------------------
# Excel: the paper form (merged 总评价 over its four ratings, the header repeated on each page).

# (header, column width); 总评价 spans the four rating columns between 意见或建议 and 回访人员.
LEFT_COLUMNS = (
    ("回访时间", 17),
    ("住院号", 12),
    ("姓名", 9),
    ("性别", 5),
    ("年龄", 5),
    ("住院诊断", 22),
    ("出院时间", 11),
    ("目前病情（康复情况）", 26),
    ("意见或建议", 26),
)
RIGHT_COLUMNS = (("回访人员", 10),)
HEADER_ROW = 4  # rows 4–5 hold the two-level header; data starts on row 6
FIRST_DATA_ROW = HEADER_ROW + 2


def _text(cell, value: str) -> None:
    """User text is never a formula: openpyxl would store "=…" as one, so force a string."""
    if value == "":
        value = None
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"


def register_xlsx(
    rows: Sequence[RegisterRow], *, hospital: str, department: str, period: Period
) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.page import PageMargins

    book = Workbook()
    ws = book.active
    ws.title = "回访登记表"
    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    wrap = Alignment(vertical="top", wrap_text=True)
    top_center = Alignment(horizontal="center", vertical="top", wrap_text=True)
    bold = Font(bold=True)

    ratings = [label for _value, label in RATING_COLUMNS]
    first_rating = len(LEFT_COLUMNS) + 1
    last_col = len(LEFT_COLUMNS) + len(ratings) + len(RIGHT_COLUMNS)
    last_letter = get_column_letter(last_col)

    ws.merge_cells(f"A1:{last_letter}1")
    ws["A1"] = title(hospital)
    ws["A1"].font = Font(bold=True, size=16)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 28
    half = len(LEFT_COLUMNS) // 2 + 1
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=half)
    ws.merge_cells(start_row=2, start_column=half + 1, end_row=2, end_column=last_col)
    _text(ws.cell(2, 1), f"科室：{department}")
    ws.cell(2, half + 1).value = f"日期：{date_line(period)}"
    ws.cell(2, half + 1).alignment = Alignment(horizontal="right")
    ws.row_dimensions[3].height = 4

    header = [(name, width) for name, width in LEFT_COLUMNS]
    for col, (name, width) in enumerate(header, start=1):
        ws.merge_cells(
            start_row=HEADER_ROW, start_column=col, end_row=HEADER_ROW + 1, end_column=col
        )
        ws.cell(HEADER_ROW, col).value = name
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.merge_cells(
        start_row=HEADER_ROW,
        start_column=first_rating,
        end_row=HEADER_ROW,
        end_column=first_rating + len(ratings) - 1,
    )
    ws.cell(HEADER_ROW, first_rating).value = "总评价"
    for i, label in enumerate(ratings):
        ws.cell(HEADER_ROW + 1, first_rating + i).value = label
        ws.column_dimensions[get_column_letter(first_rating + i)].width = 5
    for i, (name, width) in enumerate(RIGHT_COLUMNS):
        col = first_rating + len(ratings) + i
        ws.merge_cells(
            start_row=HEADER_ROW, start_column=col, end_row=HEADER_ROW + 1, end_column=col
        )
        ws.cell(HEADER_ROW, col).value = name
        ws.column_dimensions[get_column_letter(col)].width = width
    for r in (HEADER_ROW, HEADER_ROW + 1):
        for col in range(1, last_col + 1):
            cell = ws.cell(r, col)
            cell.font, cell.alignment, cell.border = bold, center, border

    for r, row in enumerate(rows, start=FIRST_DATA_ROW):
        values = [
            row.followed_at.replace(tzinfo=None),
            row.visit_no,
            row.name,
            row.sex,
            row.age,
            row.diagnoses,
            row.discharged_at.date() if row.discharged_at else None,
            row.condition,
            row.opinions,
            *row.ticks(),
            row.by,
        ]
        for col, value in enumerate(values, start=1):
            cell = ws.cell(r, col)
            _text(cell, value)
            cell.border = border
            cell.alignment = wrap if col in (6, 8, 9) else top_center
        ws.cell(r, 1).number_format = "yyyy-mm-dd hh:mm"
        ws.cell(r, 7).number_format = "yyyy-mm-dd"

    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW + 1}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.freeze_panes = ws.cell(FIRST_DATA_ROW, 1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# PDF: the same form through WeasyPrint (A4 landscape, Noto Sans CJK SC, page numbers).


def register_pdf(
    rows: Sequence[RegisterRow], *, hospital: str, department: str, period: Period
) -> bytes:
    from django.template.loader import render_to_string

    from careloop.notify.letters import html_to_pdf

    html = render_to_string(
        "reports/register_pdf.html",
        {
            "title": title(hospital),
            "department": department,
            "dates": date_line(period),
            "rows": rows,
            "ratings": [label for _value, label in RATING_COLUMNS],
            "printed_at": timezone.localtime(),
        },
    )
    return html_to_pdf(html)

"""R3: the leadership summary of a month or a quarter — patients followed up, the R5 rates,
satisfaction by dimension, the twelve-month trend, the departments side by side, the opinions and
suggestions raised by category, complaints and their closure — kept as PDF and Excel.

The follow-up numbers are the closed months' snapshots (``services.snapshots``): what the
departments were given on the 1st is what leadership reads, and a quarter is the sum of its three
months (R5 attributes each task to one month, so the sum counts nothing twice). Regenerating with
``refresh=True`` closes the months again first, for late calls.

The summary carries no patient identity: counts and rates only (leadership has no patient
permission). ``build`` returns plain JSON-able data; ``present`` turns it into what the screen
and the PDF show; ``generate`` renders and stores both files.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce, Trim
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from careloop.reports import charts
from careloop.reports.definitions import (
    R1_DIMENSIONS,
    Figures,
    figures_to_dict,
    percent,
    total,
)
from careloop.reports.models import Summary, SummaryKind
from careloop.reports.periods import Period, PeriodError, month
from careloop.reports.queries import completed_q
from careloop.reports.services import close_month, snapshot_figures, snapshots
from careloop.surveys.rates import RATINGS, configured_mode, satisfaction_rate

TREND_MONTHS = 12
FEEDBACK_KINDS = ("complaint", "opinion", "suggestion")  # cases.choices.CaseKind, not praise
DATA_VERSION = 1


class SummaryError(ValueError):
    """A summary that cannot be made (message in Chinese, for users)."""


def _rate(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _dec(value) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def trend_months(period: Period) -> list[Period]:
    """The twelve months ending with the period's last month."""
    last = month(period.last.year, period.last.month)
    months = [last]
    while len(months) < TREND_MONTHS and months[0].start > dt.date(2000, 1, 1):
        months.insert(0, months[0].previous())
    return months


def check_period(period: Period, today: dt.date) -> None:
    if period.kind not in (SummaryKind.MONTH, SummaryKind.QUARTER):
        raise SummaryError(_("领导汇总报告只按月或按季度生成"))
    if period.end > today:
        raise SummaryError(
            _("%(label)s 尚未结束，不能生成汇总报告（结束后次日可生成）") % {"label": period.label}
        )


# --- The figures ------------------------------------------------------------------------------


def _rates(f: Figures, mode: str) -> dict:
    return {
        "followup": _rate(f.followup_rate),
        "contact_success": _rate(f.contact_success_rate),
        "on_time": _rate(f.on_time_rate),
        "satisfaction": _rate(f.overall_satisfaction(mode)),
        "phone": _rate(f.phone_rate),
        "home_visit": _rate(f.home_visit_rate),
    }


def _dimensions(f: Figures, mode: str) -> list[dict]:
    """Q3 per dimension: the four of the paper form, any other rated one, then 总评价."""
    from careloop.surveys.choices import Dimension

    keys = list(R1_DIMENSIONS)
    keys += [d for d in Dimension.values if d in f.ratings and d not in keys and d != "overall"]
    rows = []
    for key in [*keys, "overall"]:
        counts = dict(f.overall) if key == "overall" else dict(f.dimension(key))
        counts = {r: int(counts.get(r, 0)) for r in RATINGS}
        rows.append(
            {
                "key": key,
                "label": str(Dimension(key).label),
                "counts": counts,
                "total": sum(counts.values()),
                "rate": _rate(satisfaction_rate(counts, mode)),
            }
        )
    return rows


def _departments(per_department: dict[int, Figures], mode: str) -> list[dict]:
    from careloop.org.models import Department

    names = {
        d.pk: (d.code, d.name)
        for d in Department.objects.filter(pk__in=list(per_department)).only("code", "name")
    }
    rows = []
    for dept_id, f in per_department.items():
        code, name = names.get(dept_id, ("", str(dept_id)))
        rows.append(
            {
                "code": code,
                "name": name,
                "discharges": f.discharges,
                "due": f.due,
                "completed": f.completed,
                "unreachable": f.unreachable,
                "overdue": f.overdue,
                "followup_rate": _rate(f.followup_rate),
                "contact_success_rate": _rate(f.contact_success_rate),
                "on_time_rate": _rate(f.on_time_rate),
                "satisfaction": _rate(f.overall_satisfaction(mode)),
                "rated": sum(f.overall.values()),
            }
        )
    rows.sort(key=lambda r: (r["code"], r["name"]))
    return rows


def _feedback(period: Period) -> dict:
    """C2/C4 cases of the period (registered in it), counted by category and kind, and the
    follow-up records of the period that noted an opinion or suggestion (意见或建议)."""
    from careloop.cases.models import Case
    from careloop.followup.models import FollowUpRecord

    start, end = period.start_dt(), period.end_dt()
    rows = (
        Case.objects.filter(
            registered_at__gte=start, registered_at__lt=end, kind__in=FEEDBACK_KINDS
        )
        .order_by()
        .values_list("category_id", "kind")
        .annotate(n=Count("pk"))
    )
    by_category: dict[int | None, dict[str, int]] = {}
    for category_id, kind, n in rows:
        by_category.setdefault(category_id, dict.fromkeys(FEEDBACK_KINDS, 0))[kind] += n
    from careloop.cases.models import CaseCategory

    paths = {
        c.pk: c.path
        for c in CaseCategory.objects.filter(pk__in=[k for k in by_category if k is not None])
    }
    categories = []
    for category_id, counts in by_category.items():
        name = paths.get(category_id) if category_id is not None else None
        categories.append({"name": name or _("未分类"), **counts, "total": sum(counts.values())})
    categories.sort(key=lambda r: (-r["total"], r["name"]))
    totals = {k: sum(r[k] for r in categories) for k in (*FEEDBACK_KINDS, "total")}
    record_opinions = (
        FollowUpRecord.objects.filter(completed_q(period, "task__"))
        .alias(text=Trim("opinions"))
        .exclude(text="")
        .count()
    )
    return {"categories": categories, "totals": totals, "record_opinions": record_opinions}


def _complaints(period: Period) -> dict:
    """C2/C3 complaints of the period and the loop closure of the cases re-followed in it.

    - registered: complaints registered in the period;
    - closed: complaints closed in the period; on time: of those, the ones whose answer to the
      patient (答复, else the closing) came no later than the reply deadline (none set: on time);
    - open: complaints registered before the period's end and not closed by then;
    - loop closure (C3, ``cases.services.loop_closure``) over the re-follow-ups done in the period.
    """
    from careloop.cases.choices import CaseKind, CaseStatus
    from careloop.cases.models import Case, CaseRefollow
    from careloop.cases.services import loop_closure

    start, end = period.start_dt(), period.end_dt()
    complaints = Case.objects.filter(kind=CaseKind.COMPLAINT)
    closed = complaints.filter(status=CaseStatus.CLOSED, closed_at__gte=start, closed_at__lt=end)
    on_time = closed.alias(answered=Coalesce("replied_at", "closed_at")).filter(
        Q(due_at__isnull=True) | Q(answered__lte=F("due_at"))
    )
    still_open = complaints.filter(registered_at__lt=end).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gte=end)
    )
    closure = loop_closure(CaseRefollow.objects.filter(done_at__gte=start, done_at__lt=end))
    return {
        "registered": complaints.filter(registered_at__gte=start, registered_at__lt=end).count(),
        "closed": closed.count(),
        "closed_on_time": on_time.count(),
        "open": still_open.count(),
        "refollowed": closure["refollowed"],
        "satisfied": closure["satisfied"],
        "loop_closure": _rate(closure["rate"]),
    }


def build(period: Period, *, today: dt.date | None = None) -> dict:
    """The summary's data (JSON-able; rates as decimal strings or None)."""
    today = today or timezone.localdate()
    check_period(period, today)
    mode = configured_mode()
    months = trend_months(period)
    snaps = snapshots(months, today=today)
    per_department: dict[int, Figures] = {}
    for p in period.months():
        for dept_id, snap in snaps[p.start].items():
            f = snapshot_figures(snap)
            per_department[dept_id] = (
                per_department[dept_id].add(f) if dept_id in per_department else f
            )
    hospital = total(per_department.values())
    trend = []
    for p in months:
        f = total(snapshot_figures(s) for s in snaps[p.start].values())
        trend.append(
            {
                "key": p.key,
                "label": f"{p.start.year % 100:02d}年{p.start.month}月",
                "due": f.due,
                "completed": f.completed,
                "followup_rate": _rate(f.followup_rate),
                "satisfaction": _rate(f.overall_satisfaction(mode)),
            }
        )
    return {
        "version": DATA_VERSION,
        "kind": period.kind,
        "key": period.key,
        "label": period.label,
        "start": period.start.isoformat(),
        "last": period.last.isoformat(),
        "mode": mode,
        "figures": figures_to_dict(hospital),
        "rates": _rates(hospital, mode),
        "dimensions": _dimensions(hospital, mode),
        "trend": trend,
        "departments": _departments(per_department, mode),
        "feedback": _feedback(period),
        "complaints": _complaints(period),
    }


# --- What the screen and the paper show --------------------------------------------------------


def _pct(value) -> str:
    return percent(_dec(value))


def _sorted_bars(rows: list[dict], field: str) -> list[tuple[str, Decimal | None]]:
    bars = [(r["name"], _dec(r[field])) for r in rows]
    # Highest first; departments without data last (in their hospital order).
    return sorted(bars, key=lambda b: (b[1] is None, -(b[1] or 0)))


def make_charts(data: dict) -> dict[str, str]:
    """The SVG charts of a summary's data (safe: ``charts`` escapes every text)."""
    trend = data.get("trend") or []
    departments = data.get("departments") or []
    return {
        "trend": mark_safe(  # noqa: S308 - charts escapes all text
            charts.line_chart(
                [m["label"] for m in trend],
                [
                    (_("回访率"), [_dec(m["followup_rate"]) for m in trend]),
                    (_("满意率"), [_dec(m["satisfaction"]) for m in trend]),
                ],
                title=_("近12个月回访率与满意率"),
            )
        ),
        "department_satisfaction": mark_safe(  # noqa: S308
            charts.bar_chart(_sorted_bars(departments, "satisfaction"), title=_("各科室满意率"))
        ),
        "department_followup": mark_safe(  # noqa: S308
            charts.bar_chart(_sorted_bars(departments, "followup_rate"), title=_("各科室回访率"))
        ),
        "dimensions": mark_safe(  # noqa: S308
            charts.stacked_bar_chart(
                [(d["label"], d["counts"]) for d in data.get("dimensions") or []],
                title=_("各维度评价构成"),
            )
        ),
    }


def present(data: dict) -> dict:
    """The data with rates written as "85.71%" and the charts, for templates."""
    rates = {k: _pct(v) for k, v in (data.get("rates") or {}).items()}
    dimensions = [{**d, "rate_text": _pct(d["rate"])} for d in data.get("dimensions") or []]
    trend = [
        {
            **m,
            "followup_text": _pct(m["followup_rate"]),
            "satisfaction_text": _pct(m["satisfaction"]),
        }
        for m in data.get("trend") or []
    ]
    departments = [
        {
            **r,
            "followup_text": _pct(r["followup_rate"]),
            "contact_text": _pct(r["contact_success_rate"]),
            "on_time_text": _pct(r["on_time_rate"]),
            "satisfaction_text": _pct(r["satisfaction"]),
        }
        for r in data.get("departments") or []
    ]
    complaints = dict(data.get("complaints") or {})
    lc = complaints.get("loop_closure")
    complaints["loop_closure_text"] = "—" if lc is None else f"{lc}%"
    return {
        **data,
        "figures": data.get("figures") or {},
        "rates_text": rates,
        "dimensions": dimensions,
        "trend": trend,
        "departments": departments,
        "complaints": complaints,
        "charts": make_charts(data),
        "mode_text": _("很好") if data.get("mode") == "top_box" else _("很好＋好"),
    }


# --- Files -------------------------------------------------------------------------------------


def render_pdf(data: dict, *, generated_at: dt.datetime) -> bytes:
    from careloop.notify.letters import html_to_pdf

    html = render_to_string(
        "reports/summary_pdf.html",
        {
            "s": present(data),
            "hospital_name": settings.HOSPITAL_NAME,
            "generated_at": timezone.localtime(generated_at),
        },
    )
    return html_to_pdf(html)


def _percent_cell(cell, value) -> None:
    """A rate as a number Excel shows as a percentage ("—" without data)."""
    number = _dec(value)
    if number is None:
        cell.value = "—"
    else:
        cell.value = float(number / 100)
        cell.number_format = "0.00%"


def _text_cell(cell, value) -> None:
    # Names come from data (a category typed by a user): never a live formula.
    cell.value = str(value)
    cell.data_type = "s"


def render_xlsx(data: dict, *, generated_at: dt.datetime) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    head_fill = PatternFill("solid", fgColor="E8EEF7")
    bold = Font(bold=True)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)

    book = Workbook()
    ws = book.active
    ws.title = _("汇总")
    row = 1

    def title(text: str, width: int = 8) -> None:
        nonlocal row
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        cell = ws.cell(row, 1, text)
        cell.font = Font(bold=True, size=14)
        cell.alignment = center
        row += 1

    def section(text: str) -> None:
        nonlocal row
        row += 1
        ws.cell(row, 1, text).font = bold
        row += 1

    def table(sheet, top: int, headers: list[str], rows: list[list], rates: set[int] = frozenset()):
        for c, h in enumerate(headers, start=1):
            cell = sheet.cell(top, c, h)
            cell.font, cell.fill, cell.border, cell.alignment = bold, head_fill, border, center
        for r, values in enumerate(rows, start=top + 1):
            for c, value in enumerate(values, start=1):
                cell = sheet.cell(r, c)
                if c - 1 in rates:
                    _percent_cell(cell, value)
                elif isinstance(value, str):
                    _text_cell(cell, value)
                else:
                    cell.value = value
                cell.border = border
        return top + len(rows) + 1

    title(_("%(hospital)s患者回访领导汇总报告（%(label)s）")
          % {"hospital": settings.HOSPITAL_NAME, "label": data["label"]})  # fmt: skip
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=8)
    ws.cell(row, 1, _("统计期间：%(start)s 至 %(last)s　生成时间：%(at)s")
            % {"start": data["start"], "last": data["last"],
               "at": f"{timezone.localtime(generated_at):%Y-%m-%d %H:%M}"})  # fmt: skip
    row += 1

    f, rates = data["figures"], data["rates"]
    section(_("一、回访概况"))
    row = table(
        ws, row,
        [_("出院人数"), _("应访"), _("已回访"), _("失访"), _("逾期未访"), _("不予回访"),
         _("回访率"), _("回访成功率"), _("及时率"), _("满意率")],
        [[f["discharges"], f["due"], f["completed"], f["unreachable"], f["overdue"], f["excluded"],
          rates["followup"], rates["contact_success"], rates["on_time"], rates["satisfaction"]]],
        rates={6, 7, 8, 9},
    )  # fmt: skip

    section(_("二、满意度（按维度）"))
    row = table(
        ws, row,
        [_("维度"), _("很好"), _("好"), _("一般"), _("差"), _("合计"), _("满意率")],
        [[d["label"], *(d["counts"][r] for r in RATINGS), d["total"], d["rate"]]
         for d in data["dimensions"]],
        rates={6},
    )  # fmt: skip

    section(_("三、近12个月趋势"))
    row = table(
        ws, row,
        [_("月份"), _("应访"), _("已回访"), _("回访率"), _("满意率")],
        [[m["key"], m["due"], m["completed"], m["followup_rate"], m["satisfaction"]]
         for m in data["trend"]],
        rates={3, 4},
    )  # fmt: skip

    fb = data["feedback"]
    section(_("四、意见建议（按分类）"))
    t = fb["totals"]
    row = table(
        ws, row,
        [_("分类"), _("投诉"), _("意见"), _("建议"), _("合计")],
        [[c["name"], c["complaint"], c["opinion"], c["suggestion"], c["total"]]
         for c in fb["categories"]]
        + [[_("合计"), t["complaint"], t["opinion"], t["suggestion"], t["total"]]],
    )  # fmt: skip
    ws.cell(row, 1, _("回访记录中提出意见或建议：%(n)s 条") % {"n": fb["record_opinions"]})
    row += 1

    cp = data["complaints"]
    section(_("五、投诉处理及闭环"))
    row = table(
        ws, row,
        [_("本期登记"), _("本期办结"), _("按期办结"), _("期末未办结"), _("结案回访"), _("回访满意"),
         _("闭环满意率")],
        [[cp["registered"], cp["closed"], cp["closed_on_time"], cp["open"], cp["refollowed"],
          cp["satisfied"], "—" if cp["loop_closure"] is None else f"{cp['loop_closure']}%"]],
    )  # fmt: skip
    ws.column_dimensions["A"].width = 26
    for letter in "BCDEFGHIJ":
        ws.column_dimensions[letter].width = 12

    ws2 = book.create_sheet(_("科室对比"))
    ws2.merge_cells(start_row=1, start_column=1, end_row=1, end_column=10)
    cell = ws2.cell(1, 1, _("科室对比（%(label)s）") % {"label": data["label"]})
    cell.font, cell.alignment = Font(bold=True, size=14), center
    table(
        ws2, 2,
        [_("科室"), _("出院人数"), _("应访"), _("已回访"), _("失访"), _("回访率"), _("回访成功率"),
         _("及时率"), _("满意率"), _("总评价份数")],
        [[r["name"], r["discharges"], r["due"], r["completed"], r["unreachable"],
          r["followup_rate"], r["contact_success_rate"], r["on_time_rate"], r["satisfaction"],
          r["rated"]] for r in data["departments"]],
        rates={5, 6, 7, 8},
    )  # fmt: skip
    ws2.column_dimensions["A"].width = 24
    for letter in "BCDEFGHIJ":
        ws2.column_dimensions[letter].width = 12
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def generate(
    period: Period,
    kind: str | None = None,
    by=None,
    *,
    today: dt.date | None = None,
    refresh: bool = False,
) -> Summary:
    """R3: build the period's summary, render the PDF and the workbook, and keep them (one row
    per kind and period; regenerating replaces it). ``refresh`` closes the period's months again
    first (late calls), as whoever may regenerate a month can."""
    from careloop.audit.choices import Action
    from careloop.audit.services import record_event

    today = today or timezone.localdate()
    if kind is not None and kind != period.kind:
        raise SummaryError(_("统计期间与报告类型不一致"))
    try:
        check_period(period, today)
    except PeriodError as exc:  # pragma: no cover - Period objects are already valid
        raise SummaryError(str(exc)) from exc
    if refresh:
        for p in period.months():
            close_month(p, by=by, today=today)
    data = build(period, today=today)
    now = timezone.now()
    pdf = render_pdf(data, generated_at=now)
    xlsx = render_xlsx(data, generated_at=now)
    with transaction.atomic():
        summary, created = Summary.objects.update_or_create(
            kind=period.kind,
            period_key=period.key,
            defaults={
                "period_start": period.start,
                "period_end": period.end,
                "pdf": pdf,
                "xlsx": xlsx,
                "data": data,
                "generated_at": now,
                "generated_by": by,
            },
        )
    if by is not None:
        record_event(
            Action.CREATE if created else Action.UPDATE,
            actor=by,
            obj=summary,
            message=_("生成领导汇总报告 %(label)s") % {"label": period.label},
        )
    return summary

"""R1 page: the monthly department table on screen, as Excel (?format=xlsx) and as PDF
(?format=pdf). Every count opens the tasks behind it (reports:drill).

Scope (O3): the user's departments come from ``scope.department_ids`` — a department head sees
only their own; asking for another department is a form error (400), never its numbers.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from careloop.audit.choices import Action
from careloop.audit.services import record_event
from careloop.core.permissions import require_perm
from careloop.reports import r1, scope
from careloop.reports.forms import ReportFilterForm
from careloop.surveys.rates import TOP_BOX, configured_mode

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def drill_url(table: r1.Table, row: r1.Row, cell: r1.Cell) -> str:
    if cell.drill is None:
        return ""
    department = row.department_id if row.department_id is not None else table.department_id
    query = {
        "month": table.period.key,
        "department": department or "",
        "policy": table.policy.pk if table.policy is not None else "",
        **cell.drill,
    }
    return reverse("reports:drill") + "?" + urlencode(query)


def _screen_rows(table: r1.Table) -> list[dict]:
    return [
        {
            "row": row,
            "paper": [(c, drill_url(table, row, c)) for c in row.paper_cells()],
            "extra": [(c, drill_url(table, row, c)) for c in row.extra_cells()],
        }
        for row in table.all_rows
    ]


def _filename(table: r1.Table, ext: str) -> str:
    return f"科室月度统计-{table.period.key}-{table.department_label[:20]}.{ext}"


def _export(request, table: r1.Table, fmt: str) -> HttpResponse:
    require_perm(request, scope.EXPORT)
    reporter = request.user.display_name
    record_event(
        Action.EXPORT,
        request=request,
        object_type="reports.monthlysnapshot",
        object_repr=f"{table.period.label} {table.department_label}",
        message=f"导出病人回访科室月度统计表 {table.period.key} {table.department_label}"
        f"（{fmt}，{len(table.rows)} 个科室）",
    )
    if fmt == "xlsx":
        from careloop.reports.r1_excel import xlsx_bytes

        response = HttpResponse(xlsx_bytes(table, reporter=reporter), content_type=XLSX)
    else:
        from careloop.reports.r1_pdf import pdf_bytes

        response = HttpResponse(pdf_bytes(table, reporter=reporter), content_type="application/pdf")
    disposition = "attachment" if fmt == "xlsx" else "inline"
    response["Content-Disposition"] = (
        f"{disposition}; filename*=UTF-8''{_quote(_filename(table, fmt))}"
    )
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


@login_required
def monthly(request):
    require_perm(request, scope.VIEW)
    allowed = scope.department_ids(request.user)
    if allowed == []:
        raise PermissionDenied
    query = request.GET
    if "policy" not in query and (default := r1.default_policy()) is not None:
        # The paper form counts one follow-up per discharge: with several policies active (the
        # service centre's call and the ward's), 回访人数 would add both and pass 出院人数.
        # "全部制度" (policy=) is still one choice away.
        query = query.copy()
        query["policy"] = str(default.pk)
    form = ReportFilterForm.from_query(query, allowed=allowed)
    context = {"form": form, "title": _("病人回访科室月度统计表")}
    if not form.is_valid():
        return render(request, "reports/monthly.html", context, status=400)
    table = r1.build(
        form.period(),
        allowed=allowed,
        department=form.cleaned_data.get("department"),
        policy=form.cleaned_data.get("policy"),
    )
    fmt = request.GET.get("format", "")
    if fmt in ("xlsx", "pdf"):
        return _export(request, table, fmt)
    context.update(
        table=table,
        rows=_screen_rows(table),
        headers=r1.paper_headers(),
        extra_headers=r1.extra_headers(),
        can_export=request.user.has_perm(scope.EXPORT),
        top_box=configured_mode() == TOP_BOX,
        export_query=urlencode(
            {
                "month": table.period.key,
                "department": table.department_id or "",
                "policy": table.policy.pk if table.policy is not None else "",
            }
        ),
    )
    return render(request, "reports/monthly.html", context)


urlpatterns = [path("monthly/", monthly, name="monthly")]

"""R2 page: the follow-up register (病人回访登记表) of one department for a date range, on screen,
as Excel (?format=xlsx) and as PDF (?format=pdf).

The register names patients: it needs the report permission and the patient permission (P3 —
leadership reads numbers, never names), and the department must be in the user's scope (O3: a
department head chooses only their own). Every export is audited (S3)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from careloop.audit.choices import Action
from careloop.audit.services import record_event
from careloop.followup.models import Policy
from careloop.org.choices import DepartmentKind
from careloop.org.models import Department
from careloop.reports import periods, scope
from careloop.reports.register import (
    PDF_MAX_ROWS,
    RATING_COLUMNS,
    date_line,
    register_pdf,
    register_rows,
    register_tasks,
    register_xlsx,
    title,
    to_row,
)

PATIENT_PERM = "patients.view_patient"
FORMATS = ("xlsx", "pdf")
PAGE_SIZE = 50
FIELDS = ("department", "start", "end", "policy")


class RegisterForm(forms.Form):
    department = forms.ModelChoiceField(
        queryset=Department.objects.none(),
        label=gettext_lazy("科室"),
        empty_label=gettext_lazy("请选择科室"),
        error_messages={
            "required": gettext_lazy("请选择科室。"),
            "invalid_choice": gettext_lazy("所选科室不存在或不在您的查看范围内。"),
        },
    )
    start = forms.DateField(
        label=gettext_lazy("开始日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": gettext_lazy("开始日期应为“年-月-日”，例如 2026-10-01。")},
    )
    end = forms.DateField(
        label=gettext_lazy("结束日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": gettext_lazy("结束日期应为“年-月-日”，例如 2026-10-31。")},
    )
    policy = forms.ModelChoiceField(
        queryset=Policy.objects.order_by("name"),
        label=gettext_lazy("回访制度"),
        required=False,
        empty_label=gettext_lazy("全部"),
        error_messages={"invalid_choice": gettext_lazy("所选回访制度不存在。")},
    )

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def clean(self):
        data = super().clean()
        if "start" not in data or "end" not in data:
            return data  # a date did not parse; its own message says so
        start, end = data["start"], data["end"]
        if start is None and end is None:
            default = periods.last_month()
            start, end = default.start, default.last
        elif start is None:
            start = end.replace(day=1)
        elif end is None:
            end = max(start, timezone.localdate())
        for day in (start, end):
            if not 2000 <= day.year <= 2100:
                raise forms.ValidationError(_("日期应在 2000 年至 2100 年之间。"))
        try:
            data["period"] = periods.date_range(start, end)
        except periods.PeriodError as exc:
            raise forms.ValidationError(str(exc)) from None
        return data


def _require_access(request) -> None:
    user = request.user
    if not user.has_perm(scope.VIEW):
        raise PermissionDenied(_("您的角色不能查看统计报表。"))
    if not user.has_perm(PATIENT_PERM):
        # P3: the register names patients; leadership reads the numbers (R1, R3) instead.
        raise PermissionDenied(
            _("回访登记表载有患者姓名，您的角色无权查看患者信息；请查看月度统计表。")
        )


def _departments(user):
    allowed = scope.department_ids(user)
    if allowed is None:
        return Department.objects.exclude(kind=DepartmentKind.FUNCTIONAL).order_by("code")
    return Department.objects.filter(pk__in=allowed).order_by("code")


def _bound_data(request, departments):
    """The query as form data; a department head's own department is preselected."""
    data = request.GET.copy()
    if not any(data.get(name) for name in FIELDS):
        only = list(departments[:2])
        if len(only) != 1:
            return None
        data["department"] = str(only[0].pk)
    return data


def _attachment(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _export(request, fmt, *, department, period, policies):
    if fmt == "pdf":
        # Counted before any row is built: a year of a big ward is refused cheaply.
        n = register_tasks(period, department.pk, policies=policies).count()
        if n > PDF_MAX_ROWS:
            return None, _(
                "共 %(n)d 条记录，超过 PDF 的上限 %(max)d 条；请缩短日期范围或导出 Excel。"
            ) % {"n": n, "max": PDF_MAX_ROWS}
    rows = register_rows(period, department.pk, policies=policies)
    record_event(
        Action.EXPORT,
        request=request,
        obj=department,
        message=f"导出回访登记表 {department.name} {date_line(period)} {len(rows)} 条（{fmt}）",
    )
    args = {"hospital": settings.HOSPITAL_NAME, "department": department.name, "period": period}
    name = f"回访登记表-{department.name}-{period.start:%Y%m%d}-{period.last:%Y%m%d}"
    if fmt == "xlsx":
        content = register_xlsx(rows, **args)
        xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return _attachment(content, xlsx, f"{name}.xlsx"), None
    return _attachment(register_pdf(rows, **args), "application/pdf", f"{name}.pdf"), None


@login_required
def register(request):
    """R2: the register on screen, or exported with ?format=xlsx|pdf."""
    _require_access(request)
    fmt = request.GET.get("format", "")
    if fmt in FORMATS and not request.user.has_perm(scope.EXPORT):
        raise PermissionDenied(_("您的角色不能导出统计报表。"))
    departments = _departments(request.user)
    data = _bound_data(request, departments)
    form = RegisterForm(data, departments=departments)
    context = {
        "title": _("回访登记表"),
        "form": form,
        "ratings": [label for _value, label in RATING_COLUMNS],
        "page_obj": None,
        "rows": [],
    }
    if form.is_bound and form.is_valid():
        department, period = form.cleaned_data["department"], form.cleaned_data["period"]
        policy = form.cleaned_data.get("policy")
        policies = [policy.pk] if policy else None
        # Show the dates the register covers when they were left blank (last month).
        form.data = form.data.copy()
        form.data["start"], form.data["end"] = f"{period.start:%Y-%m-%d}", f"{period.last:%Y-%m-%d}"
        if fmt in FORMATS:
            response, error = _export(
                request, fmt, department=department, period=period, policies=policies
            )
            if response is not None:
                return response
            form.add_error(None, error)
        else:
            tasks = register_tasks(period, department.pk, policies=policies)
            page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
            query = request.GET.copy()
            for key in ("page", "format"):
                query.pop(key, None)
            for key in ("department", "start", "end"):
                query[key] = form.data[key]
            context.update(
                page_obj=page,
                rows=[to_row(t) for t in page.object_list],
                query=query.urlencode(),
                department=department,
                period=period,
                heading=title(settings.HOSPITAL_NAME),
                dates=date_line(period),
            )
    elif not form.is_bound:
        form.initial = _initial_dates()
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "reports/register.html", context, status=status)


def _initial_dates() -> dict[str, dt.date]:
    default = periods.last_month()
    return {"start": default.start, "end": default.last}


urlpatterns = [path("register/", register, name="register")]

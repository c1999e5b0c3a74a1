"""Organisation screens. Every list, detail and export goes through ``visible_to`` (O3)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import get_object_or_404, render
from django_tables2 import RequestConfig

from careloop.core.exports import audited_export
from careloop.core.permissions import require_perm
from careloop.org.filtersets import DepartmentFilterSet, RosterEntryFilterSet
from careloop.org.models import Department, RosterEntry
from careloop.org.tables import DepartmentTable, RosterEntryTable


def _list(request, *, filterset, table_class, template, title, export):
    if request.GET.get("export"):
        return export(filterset.qs)
    table = table_class(filterset.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    context = {"filter": filterset, "table": table, "title": title}
    if request.htmx:
        return render(request, "core/partials/table.html", context)
    return render(request, template, context)


@login_required
def department_list(request):
    require_perm(request, "org.view_department")
    qs = (
        Department.objects.visible_to(request.user)
        .select_related("campus")
        .annotate(staff_count=Count("staff"))
    )
    filterset = DepartmentFilterSet(request.GET or None, queryset=qs)
    return _list(
        request,
        filterset=filterset,
        table_class=DepartmentTable,
        template="org/department_list.html",
        title="科室",
        export=lambda rows: audited_export(
            request,
            queryset=rows,
            name="departments",
            sheet="科室",
            columns=[
                ("科室编码", lambda d: d.code),
                ("科室名称", lambda d: d.name),
                ("类别", lambda d: d.get_kind_display()),
                ("院区", lambda d: d.campus.name if d.campus else ""),
                ("楼宇", lambda d: d.building),
                ("科室电话", lambda d: d.phone_ext),
                ("人员数", lambda d: d.staff_count),
            ],
        ),
    )


@login_required
def department_detail(request, pk):
    require_perm(request, "org.view_department")
    department = get_object_or_404(
        Department.objects.visible_to(request.user).select_related("campus"), pk=pk
    )
    staff = department.staff.filter(is_active=True).prefetch_related("groups").order_by("username")
    if request.user.scope != "all" and department.pk not in request.user.department_ids:
        staff = staff.none()
    return render(request, "org/department_detail.html", {"department": department, "staff": staff})


@login_required
def rosterentry_list(request):
    require_perm(request, "org.view_rosterentry")
    qs = RosterEntry.objects.visible_to(request.user).select_related(
        "shift", "staff", "department", "team"
    )
    filterset = RosterEntryFilterSet(request.GET or None, queryset=qs)
    return _list(
        request,
        filterset=filterset,
        table_class=RosterEntryTable,
        template="org/rosterentry_list.html",
        title="排班",
        export=lambda rows: audited_export(
            request,
            queryset=rows,
            name="roster",
            sheet="排班",
            columns=[
                ("日期", lambda r: r.date.isoformat()),
                ("班次", lambda r: str(r.shift)),
                ("值班人员", lambda r: r.staff.display_name),
                ("工号", lambda r: r.staff.staff_no or ""),
                ("科室", lambda r: r.department.name),
                ("班组", lambda r: r.team.name if r.team else ""),
                ("备注", lambda r: r.note),
            ],
        ),
    )


@login_required
def rosterentry_detail(request, pk):
    require_perm(request, "org.view_rosterentry")
    entry = get_object_or_404(
        RosterEntry.objects.visible_to(request.user).select_related(
            "shift", "staff", "department", "team"
        ),
        pk=pk,
    )
    return render(request, "org/rosterentry_detail.html", {"entry": entry})

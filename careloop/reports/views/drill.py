"""R1/R5 drill-down: the tasks (or, for 出院人数, the discharges) behind one number of the
monthly table — the same ``queries`` rule, so the list's count is the number clicked.

Scope (O3): the departments are ``scope.department_ids`` narrowed to the one asked for; a
department head asking for another department gets a form error (400) and no list.

Patient identity (P3): a row names its patient (病历号/住院号/姓名) only when the user may see
that task (``FollowUpTask.objects.visible_to``) or visit; the name is masked unless the user
also holds ``patients.reveal_patient``. Leadership holds report permissions but no patient or
task permission, so it sees the same list anonymised: department, stage, channel, window,
status, dates and assignee, without any patient identity and without links to the tasks.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from careloop.audit.choices import Action
from careloop.audit.services import record_event
from careloop.core.permissions import require_perm
from careloop.lib.masking import mask_name
from careloop.reports import queries, scope
from careloop.reports.forms import DrillForm
from careloop.reports.r1 import DIMENSION_NAMES, RATING_HEADERS

PER_PAGE = 50
RATING_NAMES = dict(RATING_HEADERS)
TASK_PERM = "followup.view_followuptask"
VISIT_PERM = "patients.view_visit"
REVEAL_PERM = "patients.reveal_patient"


def _heading(data, period, department_label: str) -> str:
    metric = data["metric"]
    what = queries.METRICS[metric]
    if metric == "rating":
        what = (
            f"{DIMENSION_NAMES.get(data['dimension'], data['dimension'])}："
            + RATING_NAMES[data["rating"]]
        )
    elif metric == "overall":
        what = f"{what}：{RATING_NAMES[data['rating']]}"
    return f"{period.label} · {department_label} · {what}"


def _queryset(data, period, departments):
    metric = data["metric"]
    policy = data.get("policy")
    if metric == "discharges":
        qs = queries.drill_visits(period, departments=departments)
        return qs.select_related("patient", "department").order_by("discharged_at", "pk")
    qs = queries.drill_tasks(
        period,
        metric,
        departments=departments,
        policies=[policy.pk] if policy is not None else None,
        dimension=data.get("dimension") or "",
        rating=data.get("rating") or "",
    )
    return qs.select_related("patient", "visit", "department", "stage", "assignee").order_by(
        "window_end", "pk"
    )


def _visible_ids(user, model, perm: str, ids: list[int]) -> set[int]:
    if not ids or not user.has_perm(perm):
        return set()
    return set(model.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))


def _who(user, patient, visible: bool) -> dict:
    if not visible:
        return {"patient_no": "", "name": ""}
    name = patient.name if user.has_perm(REVEAL_PERM) else mask_name(patient.name)
    return {"patient_no": patient.patient_no, "name": name}


def task_rows(user, tasks) -> list[dict]:
    from careloop.followup.models import FollowUpTask

    visible = _visible_ids(user, FollowUpTask, TASK_PERM, [t.pk for t in tasks])
    rows = []
    for t in tasks:
        shown = t.pk in visible
        completed = timezone.localtime(t.completed_at) if t.completed_at else None
        rows.append(
            {
                **_who(user, t.patient, shown),
                "visit_no": t.visit.visit_no if shown else "",
                "department": t.department.name,
                "stage": t.stage.name,
                "channel": t.get_channel_display(),
                "window": f"{t.window_start:%Y-%m-%d} – {t.window_end:%Y-%m-%d}",
                "status": t.get_status_display(),
                "completed_at": f"{completed:%Y-%m-%d %H:%M}" if completed else "",
                "assignee": t.assignee.display_name if t.assignee else "",
                "url": t.get_absolute_url() if shown else "",
            }
        )
    return rows


def visit_rows(user, visits) -> list[dict]:
    from careloop.patients.models import Visit

    visible = _visible_ids(user, Visit, VISIT_PERM, [v.pk for v in visits])
    rows = []
    for v in visits:
        shown = v.pk in visible
        out = timezone.localtime(v.discharged_at) if v.discharged_at else None
        rows.append(
            {
                **_who(user, v.patient, shown),
                "visit_no": v.visit_no if shown else "",
                "department": v.department.name,
                "discharged_at": f"{out:%Y-%m-%d %H:%M}" if out else "",
                "url": reverse("patients:patient_detail", args=[v.patient_id])
                if shown and user.has_perm("patients.view_patient")
                else "",
            }
        )
    return rows


@login_required
def drill(request):
    require_perm(request, scope.VIEW)
    user = request.user
    allowed = scope.department_ids(user)
    if allowed == []:
        raise PermissionDenied
    form = DrillForm.from_query(request.GET, allowed=allowed)
    context = {"form": form, "title": _("统计明细")}
    if not form.is_valid():
        return render(request, "reports/drill.html", context, status=400)
    data = form.cleaned_data
    period, department = form.period(), data.get("department")
    departments = scope.narrow([department.pk] if department else None, allowed)
    label = department.name if department else (_("全院") if allowed is None else _("本科室"))
    try:
        qs = _queryset(data, period, departments)
    except ValueError as exc:  # the core's own check of metric/rating, in Chinese
        form.add_error(None, str(exc))
        return render(request, "reports/drill.html", context, status=400)
    if request.GET.get("format") == "xlsx":
        return _export(request, qs, data, context_label=_heading(data, period, label))
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    is_visits = data["metric"] == "discharges"
    rows = visit_rows(user, page.object_list) if is_visits else task_rows(user, page.object_list)
    identity = user.has_perm(VISIT_PERM if is_visits else TASK_PERM)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    context.update(
        heading=_heading(data, period, label),
        page=page,
        rows=rows,
        is_visits=is_visits,
        identity=identity,
        query=query.urlencode(),
        back=reverse("reports:monthly")
        + "?"
        + urlencode(
            {
                "month": period.key,
                "department": department.pk if department else "",
                "policy": data["policy"].pk if data.get("policy") else "",
            }
        ),
        can_export=user.has_perm(scope.EXPORT),
    )
    return render(request, "reports/drill.html", context)


EXPORT_CHUNK = 2000


def _chunked(make_rows, user, qs):
    """Rows in chunks, so a whole hospital's month is never held in memory at once (the
    identity check reads each chunk's ids once; the xlsx is written in constant memory)."""
    chunk: list = []
    for item in qs.iterator(chunk_size=EXPORT_CHUNK):
        chunk.append(item)
        if len(chunk) == EXPORT_CHUNK:
            yield from make_rows(user, chunk)
            chunk = []
    if chunk:
        yield from make_rows(user, chunk)


def _export(request, qs, data, *, context_label: str):
    """The drill list as Excel: the same rows and the same identity rule as the screen."""
    from careloop.core.exports import xlsx_response

    require_perm(request, scope.EXPORT)
    user = request.user
    is_visits = data["metric"] == "discharges"
    count = qs.count()
    record_event(
        Action.EXPORT,
        request=request,
        object_type=qs.model._meta.label_lower,
        message=f"导出统计明细 {context_label} {count} 条（xlsx）",
    )
    identity = user.has_perm(VISIT_PERM if is_visits else TASK_PERM)
    if is_visits:
        keys = [("department", _("科室")), ("discharged_at", _("出院时间"))]
        rows = _chunked(visit_rows, user, qs)
    else:
        keys = [
            ("department", _("科室")),
            ("stage", _("阶段")),
            ("channel", _("方式")),
            ("window", _("回访窗口")),
            ("status", _("状态")),
            ("completed_at", _("完成时间")),
            ("assignee", _("执行人")),
        ]
        rows = _chunked(task_rows, user, qs)
    if identity:
        keys = [("patient_no", _("病历号")), ("visit_no", _("住院号")), ("name", _("姓名")), *keys]
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return xlsx_response(
        f"report-drill-{stamp}",
        _("统计明细"),
        [label for _k, label in keys],
        ([row[k] for k, _label in keys] for row in rows),
    )


urlpatterns = [path("drill/", drill, name="drill")]

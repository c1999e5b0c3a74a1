"""F11 pages: clinical escalations — the doctors' list ("待我确认" first) and the page where the
visit's doctor (or the department head / head nurse) acknowledges and records what was done.

Lookups go through ``Escalation.objects.visible_to`` (O3: outside the scope is a 404); the answer
is ``services.acknowledge_escalation``, which decides who may answer — its ``CaseError`` is shown
in Chinese with status 400 and changes nothing."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, DateTimeField, F, IntegerField, Q, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from careloop.accounts.roles import Role
from careloop.audit.choices import Action
from careloop.audit.services import record_event
from careloop.cases import services
from careloop.cases.choices import DeadlineState, EscalationStatus
from careloop.cases.forms.escalations import EscalationAnswerForm
from careloop.cases.models import Escalation
from careloop.core.permissions import require_perm

VIEW_PERM = "cases.view_escalation"

TABS = [
    ("mine", gettext_lazy("待我确认")),
    ("open", gettext_lazy("全部未处理")),
    ("closed", gettext_lazy("已处理")),
]
TAB_KEYS = [key for key, _label in TABS]


def _answers_for_department(user) -> bool:
    return user.has_role(Role.DEPT_HEAD, Role.HEAD_NURSE) and user.has_perm(
        "cases.acknowledge_escalation"
    )


def _mine(user):
    """Open escalations waiting for me: addressed to me as the visit's doctor, or — for a
    department head or head nurse — any open one of their departments."""
    who = Q(doctor=user)
    if _answers_for_department(user):
        who |= Q(department_id__in=user.department_ids)
    return Q(status=EscalationStatus.OPEN) & who


def default_tab(user) -> str:
    return "mine" if user.has_perm("cases.acknowledge_escalation") else "open"


def _visible(user):
    return Escalation.objects.visible_to(user).select_related(
        "patient", "visit", "department", "doctor", "raised_by", "acknowledged_by"
    )


def _tab_filter(tab, user):
    if tab == "mine":
        return _mine(user)
    if tab == "closed":
        return Q(status=EscalationStatus.CLOSED)
    return ~Q(status=EscalationStatus.CLOSED)


def _ordered(qs, tab):
    """Open ones first by their deadline (the overdue on top), then acknowledged ones by the
    same deadline; handled ones newest first."""
    if tab == "closed":
        return qs.order_by(F("closed_at").desc(nulls_last=True), "-raised_at", "-pk")
    rank = Case(
        When(status=EscalationStatus.OPEN, then=Value(0)),
        When(status=EscalationStatus.ACKNOWLEDGED, then=Value(1)),
        default=Value(2), output_field=IntegerField(),
    )  # fmt: skip
    due = Case(
        When(~Q(status=EscalationStatus.CLOSED), then=F("due_at")), default=Value(None),
        output_field=DateTimeField(),
    )  # fmt: skip
    return qs.annotate(_rank=rank, _due=due).order_by(
        "_rank", F("_due").asc(nulls_last=True), "-raised_at", "-pk"
    )


@login_required
def escalation_list(request):
    require_perm(request, VIEW_PERM)
    user = request.user
    tab = request.GET.get("tab") or default_tab(user)
    if tab not in TAB_KEYS:
        tab = default_tab(user)
    q = (request.GET.get("q") or "").strip()
    visible = _visible(user)
    if q:
        visible = visible.filter(patient__name__icontains=q)
    counts = {key: visible.filter(_tab_filter(key, user)).count() for key in TAB_KEYS}
    rows = _ordered(visible.filter(_tab_filter(tab, user)), tab)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    now = timezone.now()
    for esc in page.object_list:
        esc.deadline = services.deadline_state(esc, now)
    query = {"tab": tab, **({"q": q} if q else {})}
    context = {
        "title": _("临床转介"),
        "page_obj": page,
        "query": urlencode(query),
        "q": q,
        "tab": tab,
        "tabs": [(key, label, counts[key]) for key, label in TABS],
    }
    if request.htmx and request.htmx.target == "results":
        return render(request, "cases/partials/escalation_table.html", context)
    return render(request, "cases/escalation_list.html", context)


def _may_answer(esc, user) -> bool:
    # The same rule the service enforces; here only to decide whether to show the form.
    return esc.status != EscalationStatus.CLOSED and services.may_answer(esc, user)


def _detail_page(request, esc, *, form=None, error=None, status=200):
    can_answer = _may_answer(esc, request.user)
    state = services.deadline_state(esc)
    context = {
        "esc": esc,
        "deadline": state,
        "deadline_label": DeadlineState(state).label,
        "form": (form or EscalationAnswerForm(initial={"action_taken": esc.action_taken}))
        if can_answer
        else None,
        "error": error,
    }
    return render(request, "cases/escalation_detail.html", context, status=status)


def _escalation(request, pk) -> Escalation:
    require_perm(request, VIEW_PERM)
    return get_object_or_404(_visible(request.user), pk=pk)


@login_required
def escalation_detail(request, pk):
    esc = _escalation(request, pk)
    record_event(Action.VIEW, request=request, obj=esc, message=str(esc.patient))
    return _detail_page(request, esc)


@login_required
@require_POST
def escalation_acknowledge(request, pk):
    """F11: "确认" (a note optional) or "记录处理情况并完成" (the record required)."""
    esc = _escalation(request, pk)
    form = EscalationAnswerForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, esc, form=form, status=400)
    try:
        services.acknowledge_escalation(
            esc, by=request.user, action_taken=form.cleaned_data["action_taken"], done=form.done
        )
    except services.CaseError as exc:
        esc.refresh_from_db()
        return _detail_page(request, esc, form=form, error=str(exc), status=400)
    if form.done:
        messages.success(request, _("已记录处理情况，转介已完成。"))
    else:
        messages.success(request, _("已确认转介，发起人已收到通知。"))
    return redirect("cases:escalation_detail", pk=esc.pk)


urlpatterns = [
    path("escalations/", escalation_list, name="escalation_list"),
    path("escalations/<int:pk>/", escalation_detail, name="escalation_detail"),
    path(
        "escalations/<int:pk>/acknowledge/",
        escalation_acknowledge,
        name="escalation_acknowledge",
    ),
]

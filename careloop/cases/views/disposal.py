"""C1 pages: the disposal forms (病人回访处置反馈表) — the list with its tabs, the form on screen
with the department's and medical affairs' signatures, and the paper form as a PDF.

Every lookup goes through ``DisposalForm.objects.visible_to`` (O3: a form outside the user's
scope is a 404); every state change is a call into ``cases.services``, whose ``CaseError`` is
shown in Chinese with status 400 and changes nothing."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, DateTimeField, F, IntegerField, Q, Value, When
from django.http import HttpResponse
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
from careloop.cases.choices import DeadlineState, DisposalStatus
from careloop.cases.forms.disposal import (
    DepartmentSignForm,
    DisposalFilterSet,
    MedicalSignForm,
    ReturnForm,
)
from careloop.cases.models import DisposalForm
from careloop.cases.pdf import attending_doctor, disposal_pdf
from careloop.core.exports import audited_export
from careloop.core.permissions import require_perm
from careloop.lib.masking import mask_address

VIEW_PERM = "cases.view_disposalform"
SIGN_PERM = "cases.change_disposalform"

# Tab → the statuses it shows ("all": every status).
TABS = [
    ("department", gettext_lazy("待科室处理"), [DisposalStatus.DEPARTMENT]),
    ("medical_affairs", gettext_lazy("待医务科审核"), [DisposalStatus.MEDICAL_AFFAIRS]),
    ("closed", gettext_lazy("已关闭"), [DisposalStatus.CLOSED]),
    ("all", gettext_lazy("全部"), None),
]
TAB_STATUSES = {key: statuses for key, _label, statuses in TABS}


def default_tab(user) -> str:
    """Each role opens the list on its own step of the form."""
    if user.has_role(Role.DEPT_HEAD, Role.HEAD_NURSE):
        return "department"
    if user.has_role(Role.MEDICAL_AFFAIRS):
        return "medical_affairs"
    return "all"


def _visible(user):
    return DisposalForm.objects.visible_to(user).select_related(
        "patient", "visit", "visit__attending_doctor", "department", "task", "task__stage",
        "dept_signed_by", "ma_signed_by", "followed_up_by",
    )  # fmt: skip


def _ordered(qs):
    """Open forms first, by their step's deadline — the overdue ones on top; then the closed
    ones, newest first."""
    closed = Case(
        When(status=DisposalStatus.CLOSED, then=Value(1)), default=Value(0),
        output_field=IntegerField(),
    )  # fmt: skip
    open_due = Case(
        When(~Q(status=DisposalStatus.CLOSED), then=F("due_at")), default=Value(None),
        output_field=DateTimeField(),
    )  # fmt: skip
    return qs.annotate(_closed=closed, _open_due=open_due).order_by(
        "_closed", F("_open_due").asc(nulls_last=True), "-created_at", "-pk"
    )


def _fmt(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else ""


def _signer(user) -> str:
    return user.display_name if user else ""


EXPORT_COLUMNS = [
    ("科室", lambda f: f.department.name),
    ("姓名", lambda f: f.patient.name),
    ("病历号", lambda f: f.patient.patient_no),
    ("住院号", lambda f: f.visit.visit_no),
    ("主管医师", lambda f: attending_doctor(f.visit)),
    ("回访时间", lambda f: _fmt(f.followed_up_at)),
    ("评价为差的项目", lambda f: "、".join(f.poor_items or [])),
    ("回访反映问题", lambda f: f.problem),
    ("处理措施", lambda f: f.measures),
    ("整改计划", lambda f: f.plan),
    ("科主任意见", lambda f: f.dept_opinion),
    ("科主任（护士长）签字", lambda f: _signer(f.dept_signed_by)),
    ("科室签字时间", lambda f: _fmt(f.dept_signed_at)),
    ("医务科意见", lambda f: f.ma_opinion),
    ("医务科签字", lambda f: _signer(f.ma_signed_by)),
    ("医务科签字时间", lambda f: _fmt(f.ma_signed_at)),
    ("状态", lambda f: str(f.get_status_display())),
    ("本步骤期限", lambda f: "" if f.status == DisposalStatus.CLOSED else _fmt(f.due_at)),
    ("期限状态", lambda f: str(DeadlineState(services.deadline_state(f)).label)),
    ("生成时间", lambda f: _fmt(f.created_at)),
]


@login_required
def disposal_list(request):
    require_perm(request, VIEW_PERM)
    user = request.user
    tab = request.GET.get("tab") or default_tab(user)
    if tab not in TAB_STATUSES:
        tab = default_tab(user)
    visible = _visible(user)
    filterset = DisposalFilterSet(request.GET or None, queryset=visible, user=user)
    filtered = filterset.qs if not filterset.is_bound or filterset.is_valid() else visible.none()
    counts = {
        key: (filtered.filter(status__in=statuses) if statuses else filtered).count()
        for key, statuses in TAB_STATUSES.items()
    }
    statuses = TAB_STATUSES[tab]
    rows = _ordered(filtered.filter(status__in=statuses) if statuses else filtered)
    if request.GET.get("export"):
        return audited_export(
            request, queryset=rows, name="disposal-forms", sheet="回访处置反馈表",
            columns=EXPORT_COLUMNS,
        )  # fmt: skip
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    now = timezone.now()
    for form in page.object_list:
        form.deadline = services.deadline_state(form, now)
        form.doctor_name = attending_doctor(form.visit)
    query = request.GET.copy()
    query.pop("page", None)
    query["tab"] = tab
    tab_query = request.GET.copy()
    for key in ("page", "tab", "export", "format"):
        tab_query.pop(key, None)
    context = {
        "title": _("回访处置反馈表"),
        "filter": filterset,
        "page_obj": page,
        "query": query.urlencode(),
        "tab": tab,
        "tabs": [(key, label, counts[key]) for key, label, _s in TABS],
        "tab_query": tab_query.urlencode(),
    }
    # A filter that does not parse is bad input: its message, no rows, 400 (htmx swaps only
    # successful responses, so the partial keeps 200 and shows the message itself).
    invalid = filterset.is_bound and not filterset.is_valid()
    if request.htmx and request.htmx.target == "results":
        return render(request, "cases/partials/disposal_table.html", context)
    return render(request, "cases/disposal_list.html", context, status=400 if invalid else 200)


def _may_sign_medical(user) -> bool:
    return user.has_perm("cases.sign_medical") and user.has_role(Role.MEDICAL_AFFAIRS)


def _detail_page(request, form, *, status=200, **forms):
    user = request.user
    can_dept = form.status == DisposalStatus.DEPARTMENT and services.can_sign_department(form, user)
    can_ma = form.status == DisposalStatus.MEDICAL_AFFAIRS and _may_sign_medical(user)
    if can_dept and "dept_form" not in forms:
        forms["dept_form"] = DepartmentSignForm(
            initial={"measures": form.measures, "plan": form.plan, "opinion": form.dept_opinion}
        )
    if can_ma:
        forms.setdefault("ma_form", MedicalSignForm())
        forms.setdefault("return_form", ReturnForm())
    followed = timezone.localtime(form.followed_up_at)
    context = {
        "form_obj": form,
        "patient": form.patient,
        "visit": form.visit,
        "age": form.patient.age(followed.date()),
        "doctor": attending_doctor(form.visit),
        "address_masked": mask_address(form.patient.address) if form.patient.address else "",
        "deadline": services.deadline_state(form),
        "deadline_label": DeadlineState(services.deadline_state(form)).label,
        "returned": form.status == DisposalStatus.DEPARTMENT and bool(form.ma_opinion),
        "can_sign_department": can_dept,
        "can_sign_medical": can_ma,
        "dept_form": forms.get("dept_form") if can_dept else None,
        "ma_form": forms.get("ma_form") if can_ma else None,
        "return_form": forms.get("return_form") if can_ma else None,
        "error": forms.get("error"),
    }
    return render(request, "cases/disposal_detail.html", context, status=status)


def _form_for(request, pk) -> DisposalForm:
    require_perm(request, VIEW_PERM)
    return get_object_or_404(_visible(request.user), pk=pk)


@login_required
def disposal_detail(request, pk):
    form = _form_for(request, pk)
    record_event(Action.VIEW, request=request, obj=form, message=str(form.patient))
    return _detail_page(request, form)


def _act(request, pk, form_class, key, call, done_message):
    """Bind the action's form, call the service; any refusal is a 400 on the detail page."""
    require_perm(request, SIGN_PERM)
    form = _form_for(request, pk)
    bound = form_class(request.POST)
    if not bound.is_valid():
        return _detail_page(request, form, status=400, **{key: bound})
    try:
        call(form, bound.cleaned_data)
    except services.CaseError as exc:
        form.refresh_from_db()
        return _detail_page(request, form, status=400, error=str(exc), **{key: bound})
    messages.success(request, done_message)
    return redirect("cases:disposal_detail", pk=form.pk)


@login_required
@require_POST
def disposal_sign_department(request, pk):
    """C1 step 1: the department head or head nurse of the form's department signs."""

    def call(form, data):
        services.sign_disposal_department(
            form, by=request.user, measures=data["measures"], plan=data["plan"],
            opinion=data["opinion"],
        )  # fmt: skip

    return _act(request, pk, DepartmentSignForm, "dept_form", call,
                _("科室已签字，处置反馈表已提交医务科审核。"))  # fmt: skip


@login_required
@require_POST
def disposal_sign_medical(request, pk):
    """C1 step 2: medical affairs signs after the department; the form closes."""

    def call(form, data):
        services.sign_disposal_medical(form, by=request.user, opinion=data["opinion"])

    return _act(request, pk, MedicalSignForm, "ma_form", call,
                _("医务科已签字，处置反馈表已关闭。"))  # fmt: skip


@login_required
@require_POST
def disposal_return(request, pk):
    """Medical affairs sends the department's measures back with a reason."""

    def call(form, data):
        services.return_disposal(form, by=request.user, reason=data["reason"])

    return _act(request, pk, ReturnForm, "return_form", call, _("已退回科室重新处理。"))


@login_required
def disposal_pdf_view(request, pk):
    """The paper form, two copies (科室留档 / 交医务科); the printed address is audited."""
    form = _form_for(request, pk)
    content = disposal_pdf(form, request=request, by=request.user)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="disposal-{form.pk}-{stamp}.pdf"'
    return response


urlpatterns = [
    path("disposal/", disposal_list, name="disposal_list"),
    path("disposal/<int:pk>/", disposal_detail, name="disposal_detail"),
    path("disposal/<int:pk>/pdf/", disposal_pdf_view, name="disposal_pdf"),
    path(
        "disposal/<int:pk>/sign-department/",
        disposal_sign_department,
        name="disposal_sign_department",
    ),
    path("disposal/<int:pk>/sign-medical/", disposal_sign_medical, name="disposal_sign_medical"),
    path("disposal/<int:pk>/return/", disposal_return, name="disposal_return"),
]

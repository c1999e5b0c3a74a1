"""The case pages (SPEC C2–C4): the list, intake, the case page with its status flow, notes,
attachments and history, the C3 re-follow-ups, and the two setup pages (category tree, deadline
rules).

Every lookup goes through ``Case.objects.visible_to`` / ``CaseRefollow.objects.visible_to``
(O3: outside the user's scope is a 404); every state change is a call into
``careloop.cases.services`` — a ``CaseError`` is shown next to the form with HTTP 400 and
nothing changed.
"""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.db import models as m
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from careloop.audit.choices import Action
from careloop.audit.services import record_event
from careloop.cases import services
from careloop.cases.choices import (
    CASE_FLOW,
    CaseStatus,
    DeadlineState,
    RefollowOutcome,
    RefollowStatus,
)
from careloop.cases.filtersets import CaseFilterSet, clock_filter
from careloop.cases.forms.cases import (
    FLOW,
    AdvanceForm,
    AttachmentForm,
    CaseEditForm,
    CaseIntakeForm,
    CategoryForm,
    DeadlineRuleEditForm,
    DeadlineRuleForm,
    NoteForm,
    RefollowForm,
    category_tree,
    intake_values,
)
from careloop.cases.models import (
    Case,
    CaseAttachment,
    CaseCategory,
    CaseRefollow,
    DeadlineRule,
)
from careloop.cases.services import CaseError
from careloop.cases.tables import CaseTable, deadline_badge, export_columns
from careloop.core.exports import audited_export
from careloop.core.permissions import require_perm

VIEW = "cases.view_case"
HANDLE = "cases.handle_case"


def _visible(user):
    return Case.objects.visible_to(user)


def _case(request, pk) -> Case:
    return get_object_or_404(
        _visible(request.user).select_related(
            "patient", "visit", "task", "category", "category__parent", "registered_by",
            "handler", "responsible_department", "replied_by", "closed_by",
        ),
        pk=pk,
    )  # fmt: skip


def _ordered(queryset):
    """C3: open cases first, by reply deadline (so the overdue ones are on top); then those
    answered and waiting to be closed; closed ones last."""
    rank = m.Case(
        m.When(status=CaseStatus.CLOSED, then=m.Value(2)),
        m.When(status=CaseStatus.REPLIED, then=m.Value(1)),
        default=m.Value(0),
        output_field=m.IntegerField(),
    )
    return queryset.annotate(rank=rank).order_by("rank", "due_at", "-pk")


# --- the list ---------------------------------------------------------------------------------


@login_required
def case_list(request):
    require_perm(request, VIEW)
    user = request.user
    queryset = (
        _ordered(_visible(user))
        .select_related("patient", "category", "category__parent", "responsible_department")
        .prefetch_related("departments")
    )
    filterset = CaseFilterSet(request.GET or None, queryset=queryset, user=user)
    if request.GET.get("export"):
        return audited_export(
            request, queryset=filterset.qs, name="cases", sheet=_("投诉与意见"),
            columns=export_columns(),
        )  # fmt: skip
    table = CaseTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    visible = _visible(user)
    context = {
        "filter": filterset,
        "table": table,
        "title": _("投诉与意见"),
        "can_export": True,
        "can_add": user.has_perm("cases.add_case"),
        "overdue": visible.filter(clock_filter(DeadlineState.OVERDUE)).count(),
        "near": visible.filter(clock_filter(DeadlineState.NEAR)).count(),
    }
    if request.htmx:
        return render(request, "cases/partials/case_table.html", context)
    return render(request, "cases/case_list.html", context)


# --- intake and edit --------------------------------------------------------------------------


@login_required
def case_add(request):
    """C2 intake. A double submit (same hidden request_key) makes one case."""
    require_perm(request, "cases.add_case")
    form = CaseIntakeForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = services.register_case(
                    by=request.user, patient=data["patient_no"],
                    departments=list(data["departments"]), staff=list(data["staff"]),
                    request_key=form.key, **intake_values(form),
                )  # fmt: skip
            except CaseError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("已登记%(kind)s，编号 %(number)s，答复期限 %(due)s。")
                    % {"kind": case.get_kind_display(), "number": case.number,
                       "due": f"{timezone.localtime(case.due_at):%Y-%m-%d %H:%M}"},
                )  # fmt: skip
                return redirect("cases:case_detail", pk=case.pk)
        return render(request, "cases/case_form.html", {"form": form, "case": None}, status=400)
    return render(request, "cases/case_form.html", {"form": form, "case": None})


@login_required
def case_edit(request, pk):
    require_perm(request, "cases.change_case")
    case = _case(request, pk)
    if not case.is_open:
        messages.error(request, _("案件已关闭，不能修改"))
        return redirect("cases:case_detail", pk=case.pk)
    form = CaseEditForm(request.POST or None, case=case, user=request.user)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            values = intake_values(form)
            if not values["contact_phone"]:
                values.pop("contact_phone")  # blank keeps the number on file
            try:
                services.update_case(
                    case, by=request.user, departments=list(data["departments"]),
                    staff=list(data["staff"]), note=data["note"], handler=data["handler"],
                    **values,
                )  # fmt: skip
            except CaseError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("已保存修改。"))
                return redirect("cases:case_detail", pk=case.pk)
        return render(request, "cases/case_form.html", {"form": form, "case": case}, status=400)
    return render(request, "cases/case_form.html", {"form": form, "case": case})


# --- the case page ----------------------------------------------------------------------------


def _label(field_name: str) -> str:
    try:
        return str(Case._meta.get_field(field_name).verbose_name)
    except FieldDoesNotExist:  # an old event may name a field that is gone
        return field_name


def _value(field_name: str, value) -> str:
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or "—"
    if value in (None, ""):
        return "—"
    try:
        choices = dict(Case._meta.get_field(field_name).choices or ())
    except FieldDoesNotExist:
        choices = {}
    return str(choices.get(value, value))


def describe_changes(changes: dict) -> list[tuple[str, str, str]]:
    """A history entry's changes as (field label, before, after), choice codes as labels."""
    return [
        (_label(name), _value(name, pair[0]), _value(name, pair[1]))
        for name, pair in (changes or {}).items()
        if isinstance(pair, list | tuple) and len(pair) == 2
    ]


def _status_label(value: str) -> str:
    return str(CaseStatus(value).label) if value in CaseStatus.values else value


def _steps(case):
    current = CASE_FLOW.index(case.status)
    return [
        {"label": s.label, "value": s.value,
         "state": "done" if i < current else "current" if i == current else "todo"}
        for i, s in enumerate(CASE_FLOW)
    ]  # fmt: skip


def _advance_forms(case, user, bound=None):
    if not (case.is_open and user.has_perm(HANDLE)):
        return []
    problems = services.closing_problems(case)
    forms = []
    for target in FLOW:
        if services.STATUS_ORDER[target] <= services.STATUS_ORDER[case.status]:
            continue
        if target == CaseStatus.CLOSED and not user.has_perm("cases.close_case"):
            continue
        if bound is not None and bound.target == target:
            forms.append(bound)
        else:
            forms.append(AdvanceForm(case=case, target=target, problems=problems))
    return forms


def _page(request, case, *, status=200, **forms):
    user = request.user
    events = list(case.events.select_related("by"))
    for event in events:
        event.change_rows = describe_changes(event.changes)
        event.from_label = _status_label(event.from_status) if event.from_status else ""
        event.to_label = _status_label(event.to_status) if event.to_status else ""
    refollows = list(case.refollows.select_related("assignee", "done_by").order_by("pk"))
    can_refollow = user.has_perm("cases.change_caserefollow")
    for refollow in refollows:
        refollow.state = services.deadline_state(refollow)
        if refollow.status == RefollowStatus.DUE and can_refollow:
            bound = forms.get("refollow_form")
            refollow.form = (
                bound if bound is not None and bound.prefix == f"r{refollow.pk}"
                else RefollowForm(prefix=f"r{refollow.pk}")
            )  # fmt: skip
    bound = forms.get("advance_form")
    advance = _advance_forms(case, user, bound)
    # A refused step whose form the page does not offer (closing without the right, moving
    # backwards): its message is shown above the page.
    action_errors = form_errors(bound) if bound is not None and bound not in advance else []
    refollow_form = forms.get("refollow_form")
    if refollow_form is not None and not any(getattr(r, "form", None) is refollow_form
                                             for r in refollows):  # fmt: skip
        action_errors += form_errors(refollow_form)
    context = {
        "case": case,
        "steps": _steps(case),
        "state": services.deadline_state(case),
        "deadline": deadline_badge(case),
        "advance_forms": advance,
        "open_target": bound if bound in advance else (advance[0] if advance else None),
        "action_errors": action_errors,
        "problems": services.closing_problems(case) if case.is_open else [],
        "events": events,
        "attachments": list(case.attachments.select_related("uploaded_by")),
        "refollows": refollows,
        "departments": list(case.departments.all()),
        "staff": list(case.staff.all()),
        "phone_masked": Case._meta.get_field("contact_phone").masked(case),
        "can_reveal": bool(case.contact_phone) and user.has_perm("patients.reveal_patient"),
        "can_edit": case.is_open and user.has_perm("cases.change_case"),
        "can_note": _may_note(user),
        "can_attach": user.has_perm("cases.add_caseattachment"),
        "note_form": forms.get("note_form") or NoteForm(),
        "attachment_form": forms.get("attachment_form") or AttachmentForm(),
        "max_mb": services.max_attachment_bytes() // (1024 * 1024),
        "allowed_types": "、".join(sorted(e.lstrip(".") for e in services.ATTACHMENT_TYPES)),
    }
    return render(request, "cases/case_detail.html", context, status=status)


def _may_note(user) -> bool:
    return user.has_perm("cases.handle_case") or user.has_perm("cases.add_case")


@login_required
def case_detail(request, pk):
    require_perm(request, VIEW)
    case = _case(request, pk)
    record_event(Action.VIEW, request=request, obj=case, message=case.number or "")
    return _page(request, case)


@login_required
@require_POST
def case_advance(request, pk, to):
    """C2: one step forward with that step's fields (services.advance_case)."""
    require_perm(request, VIEW)
    require_perm(request, HANDLE)
    case = _case(request, pk)
    if to not in FLOW:
        raise Http404
    form = AdvanceForm(request.POST, case=case, target=to, problems=services.closing_problems(case))
    if form.is_valid():
        try:
            services.advance_case(
                case, to, by=request.user, note=form.cleaned_data.get("note", ""), **form.values()
            )
        except CaseError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("案件 %(number)s 已进入“%(status)s”。")
                % {"number": case.number, "status": CaseStatus(to).label},
            )  # fmt: skip
            return redirect("cases:case_detail", pk=case.pk)
    case.refresh_from_db()
    return _page(request, case, status=400, advance_form=form)


@login_required
@require_POST
def case_note(request, pk):
    require_perm(request, VIEW)
    if not _may_note(request.user):
        raise PermissionDenied
    case = _case(request, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.add_note(case, by=request.user, note=form.cleaned_data["note"])
        except CaseError as exc:
            form.add_error("note", str(exc))
        else:
            messages.success(request, _("已添加备注。"))
            return redirect(reverse("cases:case_detail", args=[case.pk]) + "#history")
    return _page(request, case, status=400, note_form=form)


@login_required
@require_POST
def case_attachment_add(request, pk):
    """C2: a letter's scan, a photo, a recording — type and size limited by the service."""
    require_perm(request, VIEW)
    require_perm(request, "cases.add_caseattachment")
    case = _case(request, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            att = services.add_attachment(case, form.cleaned_data["file"], by=request.user)
        except CaseError as exc:
            form.add_error("file", str(exc))
        else:
            messages.success(request, _("已上传附件“%(name)s”。") % {"name": att.original_name})
            return redirect(reverse("cases:case_detail", args=[case.pk]) + "#attachments")
    return _page(request, case, status=400, attachment_form=form)


def content_disposition(name: str) -> str:
    """RFC 6266/5987: an ASCII fallback for old clients and the exact UTF-8 name."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                       for c in name) or "attachment"  # fmt: skip
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@login_required
def case_attachment(request, pk):
    """Download an attachment of a case the user can see (O3), audited."""
    require_perm(request, VIEW)
    att = get_object_or_404(
        CaseAttachment.objects.select_related("case"),
        pk=pk,
        case__in=_visible(request.user).values("pk"),
    )
    try:
        handle = att.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    record_event(
        Action.VIEW, request=request, obj=att,
        message=f"下载附件“{att.original_name}”（{att.case.number}）",
    )  # fmt: skip
    response = FileResponse(handle, content_type=att.content_type)
    response["Content-Disposition"] = content_disposition(att.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def case_reveal(request, pk):
    """P3: the contact phone in full, audited like every reveal."""
    require_perm(request, VIEW)
    require_perm(request, "patients.reveal_patient")
    case = _case(request, pk)
    record_event(Action.REVEAL, request=request, obj=case, message="联系电话（投诉与意见）")
    return render(request, "cases/partials/case_phone.html", {"case": case})


# --- C3 re-follow-ups -------------------------------------------------------------------------

REFOLLOW_TABS = [
    ("mine", gettext_lazy("我的待回访")),
    ("due", gettext_lazy("全部待回访")),
    ("done", gettext_lazy("已回访")),
]


def form_errors(form) -> list[str]:
    """Every error of a form whose fields the page does not show, for one alert."""
    errors = [str(e) for e in form.non_field_errors()]
    errors += [str(e) for field in form for e in field.errors]
    return errors


def _refollows(user):
    return CaseRefollow.objects.visible_to(user).select_related(
        "case", "case__patient", "assignee", "done_by"
    )


def _refollow_page(request, *, status=200, bound=None, tab=None):
    user = request.user
    tab = tab or request.GET.get("tab") or "mine"
    if tab not in dict(REFOLLOW_TABS):
        tab = "mine"
    visible = _refollows(user)
    tabs = {
        "mine": visible.filter(status=RefollowStatus.DUE, assignee=user).order_by("due_at", "pk"),
        "due": visible.filter(status=RefollowStatus.DUE).order_by("due_at", "pk"),
        "done": visible.filter(status=RefollowStatus.DONE).order_by("-done_at", "-pk"),
    }
    page = Paginator(tabs[tab], 50).get_page(request.GET.get("page"))
    can_record = user.has_perm("cases.change_caserefollow")
    rows = list(page.object_list)
    for row in rows:
        row.state = services.deadline_state(row)
        row.deadline = deadline_badge(row)
        if row.status == RefollowStatus.DUE and can_record:
            prefix = f"r{row.pk}"
            row.form = (
                bound
                if bound is not None and bound.prefix == prefix
                else RefollowForm(prefix=prefix)
            )
    shown = any(getattr(row, "form", None) is bound for row in rows)
    closure = services.loop_closure(CaseRefollow.objects.visible_to(user))
    context = {
        "title": _("结案回访"),
        "tab": tab,
        "tabs": [(key, label, tabs[key].count()) for key, label in REFOLLOW_TABS],
        "rows": rows,
        "page_obj": page,
        "query": f"tab={tab}",
        "closure": closure,
        "errors": form_errors(bound) if bound is not None and not shown else [],
    }
    return render(request, "cases/refollow_list.html", context, status=status)


@login_required
def refollow_list(request):
    require_perm(request, "cases.view_caserefollow")
    return _refollow_page(request)


def _next_url(request, default: str) -> str:
    url = request.POST.get("next") or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default


@login_required
@require_POST
def refollow_record(request, pk):
    """C3: the patient's answer; not satisfied reopens the case (services.record_refollow)."""
    require_perm(request, "cases.view_caserefollow")
    require_perm(request, "cases.change_caserefollow")
    refollow = get_object_or_404(_refollows(request.user), pk=pk)
    form = RefollowForm(request.POST, prefix=f"r{refollow.pk}")
    if form.is_valid():
        outcome = form.cleaned_data["outcome"]
        try:
            services.record_refollow(
                refollow, by=request.user, outcome=outcome, note=form.cleaned_data["note"]
            )
        except CaseError as exc:
            form.add_error(None, str(exc))
        else:
            case = Case.objects.get(pk=refollow.case_id)
            if outcome == RefollowOutcome.UNSATISFIED:
                messages.warning(
                    request,
                    _("患者不满意：案件 %(number)s 已重新进入“处理”，新的答复期限 %(due)s。")
                    % {"number": case.number,
                       "due": f"{timezone.localtime(case.due_at):%Y-%m-%d %H:%M}"},
                )  # fmt: skip
            else:
                messages.success(
                    request, _("已记录案件 %(number)s 的结案回访：%(outcome)s。")
                    % {"number": case.number, "outcome": RefollowOutcome(outcome).label},
                )  # fmt: skip
            return redirect(_next_url(request, reverse("cases:refollow_list")))
    if request.POST.get("from") == "case":
        case = _case(request, refollow.case_id)
        return _page(request, case, status=400, refollow_form=form)
    return _refollow_page(request, status=400, bound=form, tab="due")


# --- setup: categories (C2) -------------------------------------------------------------------


def _category_page(request, form, *, status=200):
    rows = category_tree(list(CaseCategory.objects.order_by("position", "pk")))
    counts = dict(
        Case.objects.order_by().values("category").annotate(n=m.Count("pk"))
        .values_list("category", "n")
    )  # fmt: skip
    for cat, _depth in rows:
        cat.case_count = counts.get(cat.pk, 0)
    context = {"title": _("投诉分类"), "rows": rows, "form": form}
    return render(request, "cases/category_list.html", context, status=status)


@login_required
def category_list(request):
    require_perm(request, "cases.change_casecategory")
    if request.method == "POST":
        require_perm(request, "cases.add_casecategory")
        form = CategoryForm(request.POST)
        if form.is_valid():
            category = form.save()
            messages.success(request, _("已新增分类“%(name)s”。") % {"name": category.path})
            return redirect("cases:category_list")
        return _category_page(request, form, status=400)
    return _category_page(request, CategoryForm())


@login_required
def category_edit(request, pk):
    require_perm(request, "cases.change_casecategory")
    category = get_object_or_404(CaseCategory, pk=pk)
    form = CategoryForm(request.POST or None, instance=category)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, _("已保存分类“%(name)s”。") % {"name": category.path})
            return redirect("cases:category_list")
        return render(
            request, "cases/category_form.html", {"form": form, "category": category}, status=400
        )
    return render(request, "cases/category_form.html", {"form": form, "category": category})


@login_required
@require_POST
def category_toggle(request, pk):
    """Deactivate (or reactivate) a category: existing cases keep it; intake no longer offers
    it, nor its children."""
    require_perm(request, "cases.change_casecategory")
    with transaction.atomic():
        category = get_object_or_404(CaseCategory.objects.select_for_update(), pk=pk)
        category.is_active = not category.is_active
        category.save(update_fields=["is_active"])
    if category.is_active:
        messages.success(request, _("已启用分类“%(name)s”。") % {"name": category.path})
    else:
        messages.success(request, _("已停用分类“%(name)s”。") % {"name": category.path})
    return redirect("cases:category_list")


# --- setup: deadline rules (C3) ---------------------------------------------------------------


def _rule_page(request, *, add_form=None, bound=None, status=200):
    rules = list(DeadlineRule.objects.all())
    for rule in rules:
        prefix = f"rule{rule.pk}"
        if bound is not None and bound.prefix == prefix:
            rule.form = bound
        else:
            rule.form = DeadlineRuleEditForm(instance=rule, prefix=prefix)
        # The row's inputs sit in table cells; they belong to the row's form by its id.
        for field in rule.form.fields.values():
            field.widget.attrs["form"] = f"rule-form-{rule.pk}"
            field.widget.attrs["aria-label"] = f"{rule.get_subject_display()} · {field.label}"
    context = {
        "title": _("处理期限规则"),
        "rules": rules,
        "add_form": add_form or DeadlineRuleForm(prefix="new"),
    }
    return render(request, "cases/deadlinerule_list.html", context, status=status)


@login_required
def deadlinerule_list(request):
    require_perm(request, "cases.change_deadlinerule")
    return _rule_page(request)


@login_required
@require_POST
def deadlinerule_add(request):
    require_perm(request, "cases.change_deadlinerule")
    require_perm(request, "cases.add_deadlinerule")
    form = DeadlineRuleForm(request.POST, prefix="new")
    if form.is_valid():
        rule = form.save(commit=False)
        rule.updated_at = timezone.now()
        rule.save()
        messages.success(request, _("已新增规则：%(rule)s。") % {"rule": rule})
        return redirect("cases:deadlinerule_list")
    return _rule_page(request, add_form=form, status=400)


@login_required
@require_POST
def deadlinerule_edit(request, pk):
    require_perm(request, "cases.change_deadlinerule")
    rule = get_object_or_404(DeadlineRule, pk=pk)
    form = DeadlineRuleEditForm(request.POST, instance=rule, prefix=f"rule{rule.pk}")
    if form.is_valid():
        rule = form.save(commit=False)
        rule.updated_at = timezone.now()
        rule.save()
        messages.success(request, _("已保存规则：%(rule)s。") % {"rule": rule})
        return redirect("cases:deadlinerule_list")
    return _rule_page(request, bound=form, status=400)


urlpatterns = [
    path("", case_list, name="case_list"),
    path("new/", case_add, name="case_add"),
    path("<int:pk>/", case_detail, name="case_detail"),
    path("<int:pk>/edit/", case_edit, name="case_edit"),
    path("<int:pk>/advance/<slug:to>/", case_advance, name="case_advance"),
    path("<int:pk>/note/", case_note, name="case_note"),
    path("<int:pk>/attachments/", case_attachment_add, name="case_attachment_add"),
    path("<int:pk>/reveal/", case_reveal, name="case_reveal"),
    path("attachments/<int:pk>/", case_attachment, name="case_attachment"),
    path("refollows/", refollow_list, name="refollow_list"),
    path("refollows/<int:pk>/record/", refollow_record, name="refollow_record"),
    path("categories/", category_list, name="category_list"),
    path("categories/<int:pk>/edit/", category_edit, name="category_edit"),
    path("categories/<int:pk>/toggle/", category_toggle, name="category_toggle"),
    path("deadlines/", deadlinerule_list, name="deadlinerule_list"),
    path("deadlines/new/", deadlinerule_add, name="deadlinerule_add"),
    path("deadlines/<int:pk>/", deadlinerule_edit, name="deadlinerule_edit"),
]

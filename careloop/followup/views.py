"""Policy pages (F1–F5), the supervisors' task list (F7, F12) and the task page (E7).

Every task lookup goes through ``FollowUpTask.objects.visible_to`` (O3); every state change is
a call into ``services`` (the planner and the commands use the same functions)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from careloop.audit.choices import Action
from careloop.audit.services import record_event
from careloop.core.exports import audited_export
from careloop.core.permissions import require_perm
from careloop.followup import services
from careloop.followup.choices import OPEN_STATUSES, Anchor, Repeat, TaskStatus
from careloop.followup.exports import SHEET, task_values, web_columns
from careloop.followup.filtersets import TaskFilterSet
from careloop.followup.forms import (
    LiftExclusionForm,
    PolicyForm,
    PreviewRangeForm,
    ReassignForm,
    StageForm,
)
from careloop.followup.models import FollowUpTask, Policy, Stage
from careloop.followup.tables import TaskTable
from careloop.org.choices import DepartmentKind
from careloop.patients.choices import VisitType


def describe_stage(stage: Stage, departments=None) -> str:
    """F5 in one Chinese line: "住院 · 出院后第 7–13 天 · 电话 · 客服回访员（公共池）"."""
    parts = []
    if stage.visit_types:
        parts.append("/".join(str(VisitType(v).label) for v in stage.visit_types))
    else:
        parts.append(_("所有就诊"))
    if stage.department_kinds:
        parts.append("/".join(str(DepartmentKind(k).label) for k in stage.department_kinds))
    if departments is None and stage.pk:
        departments = list(stage.departments.all())
    if departments:
        parts.append(_("限 %(names)s") % {"names": "、".join(d.name for d in departments)})
    for flag, yes, no in (
        (stage.first_visit, _("初诊"), _("复诊")),
        (stage.lost, _("流失"), _("非流失")),
        (stage.special, _("特殊病人"), _("非特殊病人")),
        (stage.chronic, _("慢病"), _("非慢病")),
    ):
        if flag is not None:
            parts.append(yes if flag else no)
    if stage.min_cost is not None:
        parts.append(_("费用高于 %(cost)s 元") % {"cost": f"{stage.min_cost:,.0f}"})
    if stage.age_min is not None and stage.age_max is not None:
        parts.append(_("%(a)s–%(b)s 岁") % {"a": stage.age_min, "b": stage.age_max})
    elif stage.age_min is not None:
        parts.append(_("%(a)s 岁及以上") % {"a": stage.age_min})
    elif stage.age_max is not None:
        parts.append(_("%(b)s 岁及以下") % {"b": stage.age_max})
    if stage.diagnosis_codes:
        parts.append(_("诊断 %(codes)s") % {"codes": stage.diagnosis_codes})
    if stage.after_recovery:
        parts.append(_("康复后"))
    days = {"a": stage.window_start_day, "b": stage.window_last_day}
    if stage.anchor == Anchor.VISIT:
        parts.append(_("就诊后第 %(a)s–%(b)s 天") % days)
    elif stage.anchor == Anchor.PREVIOUS:
        parts.append(_("上一阶段完成后第 %(a)s–%(b)s 天") % days)
    else:
        parts.append(_("出院后第 %(a)s–%(b)s 天") % days)
    if stage.depends_on_id:
        parts.append(_("在“%(name)s”完成后") % {"name": stage.depends_on.name})
    parts.append(str(stage.get_channel_display()))
    parts.append(str(stage.get_assignee_role_display()))
    if stage.repeat == Repeat.EVERY:
        text = _("每 %(n)s 天重复") % {"n": stage.repeat_every_days}
        if stage.repeat_max:
            text += _("，最多 %(m)s 次") % {"m": stage.repeat_max}
        parts.append(text)
    elif stage.repeat == Repeat.UNTIL_RECOVERED:
        parts.append(_("每 %(n)s 天一次直至康复") % {"n": stage.repeat_every_days})
    return " · ".join(parts)


def _open_counts(user, field: str) -> dict[int, int]:
    rows = (
        FollowUpTask.objects.visible_to(user)
        .filter(status__in=OPEN_STATUSES)
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values_list(field, "n")
    )
    return dict(rows)


def _policy(slug) -> Policy:
    return get_object_or_404(Policy, slug=slug)


# --- Policies -------------------------------------------------------------------------------


@login_required
def policy_list(request):
    require_perm(request, "followup.view_policy")
    open_tasks = _open_counts(request.user, "policy")
    policies = list(
        Policy.objects.annotate(stage_count=Count("stages")).order_by("-is_active", "slug")
    )
    for policy in policies:
        policy.open_tasks = open_tasks.get(policy.pk, 0)
    return render(request, "followup/policy_list.html", {"policies": policies})


@login_required
def policy_detail(request, slug):
    require_perm(request, "followup.view_policy")
    policy = _policy(slug)
    open_tasks = _open_counts(request.user, "stage")
    stages = list(
        policy.stages.select_related("depends_on").prefetch_related(Prefetch("departments"))
    )
    for stage in stages:
        stage.summary = describe_stage(stage, list(stage.departments.all()))
        stage.open_tasks = open_tasks.get(stage.pk, 0)
    return render(request, "followup/policy_detail.html", {"policy": policy, "stages": stages})


@login_required
def policy_edit(request, slug):
    require_perm(request, "followup.change_policy")
    policy = _policy(slug)
    form = PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            services.policy_changed(policy, by=request.user)
        messages.success(request, _("已保存回访制度“%(name)s”。") % {"name": policy.name})
        return redirect(policy)
    return render(request, "followup/policy_form.html", {"policy": policy, "form": form})


def _policy_switch(request, slug, *, activate: bool):
    require_perm(request, "followup.change_policy")
    policy = _policy(slug)
    if request.method != "POST":
        open_tasks = FollowUpTask.objects.filter(policy=policy, status__in=OPEN_STATUSES).count()
        context = {"policy": policy, "activate": activate, "open_tasks": open_tasks}
        return render(request, "followup/policy_confirm.html", context)
    try:
        if activate:
            services.activate_policy(policy, by=request.user)
            messages.success(
                request, _("已启用“%(name)s”，系统将按该制度生成回访任务。") % {"name": policy.name}
            )
        else:
            cancelled = services.deactivate_policy(policy, by=request.user)
            messages.success(
                request,
                _("已停用“%(name)s”，取消未完成任务 %(n)s 个。")
                % {"name": policy.name, "n": cancelled},
            )
    except services.ServiceError as exc:
        messages.error(request, str(exc))
    return redirect(policy)


@login_required
def policy_activate(request, slug):
    return _policy_switch(request, slug, activate=True)


@login_required
def policy_deactivate(request, slug):
    return _policy_switch(request, slug, activate=False)


# --- Stages ---------------------------------------------------------------------------------


def _stage_form_page(request, policy, stage=None):
    form = StageForm(request.POST or None, instance=stage, policy=policy)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save()
            services.policy_changed(policy, by=request.user)
        messages.success(request, _("已保存阶段“%(name)s”。") % {"name": saved.name})
        return redirect(policy)
    context = {
        "policy": policy,
        "stage": stage,
        "form": form,
        "range_form": PreviewRangeForm(),
        "preview_url": reverse(
            "followup:stage_preview", args=[policy.slug, stage.pk] if stage else [policy.slug]
        ),
    }
    return render(request, "followup/stage_form.html", context)


@login_required
def stage_add(request, slug):
    require_perm(request, "followup.add_stage")
    return _stage_form_page(request, _policy(slug))


@login_required
def stage_edit(request, slug, pk):
    require_perm(request, "followup.change_stage")
    policy = _policy(slug)
    return _stage_form_page(request, policy, get_object_or_404(policy.stages, pk=pk))


@login_required
def stage_delete(request, slug, pk):
    require_perm(request, "followup.delete_stage")
    policy = _policy(slug)
    stage = get_object_or_404(policy.stages, pk=pk)
    task_count = FollowUpTask.objects.filter(stage=stage).count()
    dependents = list(stage.dependents.all())
    if request.method == "POST":
        if task_count:
            messages.error(
                request,
                _("阶段“%(name)s”已生成 %(n)s 个回访任务，不能删除；可修改阶段或停用制度。")
                % {"name": stage.name, "n": task_count},
            )
        elif dependents:
            messages.error(
                request,
                _("阶段“%(name)s”是“%(others)s”的前置阶段，请先修改这些阶段。")
                % {"name": stage.name, "others": "、".join(d.name for d in dependents)},
            )
        else:
            with transaction.atomic():
                stage.delete()
                services.policy_changed(policy, by=request.user)
            messages.success(request, _("已删除阶段“%(name)s”。") % {"name": stage.name})
        return redirect(policy)
    context = {"policy": policy, "stage": stage, "task_count": task_count, "dependents": dependents}
    return render(request, "followup/stage_confirm_delete.html", context)


def _anchor_of(visit, anchor):
    moment = visit.visit_at if anchor == Anchor.VISIT and visit.visit_at else visit.discharged_at
    return timezone.localtime(moment).date() if moment else None


@login_required
@require_POST
def stage_preview(request, slug, pk=None):
    """Which visits of a period the stage, as entered and not yet saved, would catch."""
    if not request.user.has_perm("followup.change_stage" if pk else "followup.add_stage"):
        raise PermissionDenied
    policy = _policy(slug)
    stage = get_object_or_404(policy.stages, pk=pk) if pk else None
    form = StageForm(request.POST, instance=stage, policy=policy)
    range_form = PreviewRangeForm(request.POST)
    context = {"form": form, "range_form": range_form, "preview": None}
    if form.is_valid() and range_form.is_valid():
        candidate = form.save(commit=False)
        departments = list(form.cleaned_data.get("departments") or [])
        # Unsaved: the preview reads the departments as entered, not the saved ones.
        candidate.pk = None
        candidate._preview_departments = departments
        try:
            preview = services.preview_stage(
                candidate,
                start=range_form.cleaned_data["preview_start"],
                end=range_form.cleaned_data["preview_end"],
                limit=200,
            )
        except services.ServiceError as exc:
            context["error"] = str(exc)
        else:
            user = request.user
            if user.scope != "all":
                # The counts are aggregates; the rows name patients and stay within scope (O3).
                preview.rows = [
                    r for r in preview.rows if r.visit.department_id in user.department_ids
                ]
            for row in preview.rows:
                row.anchor = _anchor_of(row.visit, candidate.anchor)
            context["preview"] = preview
            context["summary"] = describe_stage(candidate, departments)
        context["start"] = range_form.cleaned_data.get("preview_start")
        context["end"] = range_form.cleaned_data.get("preview_end")
    return render(request, "followup/partials/stage_preview.html", context)


# --- Tasks ----------------------------------------------------------------------------------


def _visible_tasks(user):
    return FollowUpTask.objects.visible_to(user).select_related(
        "patient", "visit", "department", "policy", "stage", "assignee"
    )


@login_required
def task_list(request):
    require_perm(request, "followup.view_followuptask")
    user = request.user
    filterset = TaskFilterSet(request.GET or None, queryset=_visible_tasks(user), user=user)
    if request.GET.get("export"):
        require_perm(request, "followup.export_task")
        return audited_export(
            request,
            queryset=task_values(filterset.qs),
            name="followup-tasks",
            sheet=SHEET,
            columns=web_columns(),
        )
    can_reassign = user.has_perm("followup.reassign_task")
    table = TaskTable(filterset.qs, selectable=can_reassign)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    context = {
        "filter": filterset,
        "table": table,
        "title": _("回访任务"),
        "can_export": user.has_perm("followup.export_task"),
        "reassign_form": ReassignForm(user=user) if can_reassign else None,
    }
    if request.htmx:
        return render(request, "followup/partials/task_table.html", context)
    return render(request, "followup/task_list.html", context)


def _back_to_list(request):
    query = request.POST.get("query", "")
    url = reverse("followup:task_list") + (f"?{query}" if query else "")
    if not url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        url = reverse("followup:task_list")
    return redirect(url)


@login_required
@require_POST
def task_reassign(request):
    """F12: a supervisor moves several tasks to one person."""
    require_perm(request, "followup.reassign_task")
    user = request.user
    form = ReassignForm(request.POST, user=user)
    wanted = [v for v in request.POST.getlist("task") if v.isdigit()]
    ids = list(
        FollowUpTask.objects.visible_to(user).filter(pk__in=wanted).values_list("pk", flat=True)
    )
    if not ids:
        messages.error(request, _("请先勾选要改派的任务。"))
    elif not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        target = form.cleaned_data["to_user"]
        try:
            moved = services.reassign_tasks(
                ids, to_user=target, by=user, note=form.cleaned_data["note"]
            )
        except services.ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("已将 %(n)s 个任务改派给 %(name)s。") % {"n": moved, "name": target.display_name},
            )
    return _back_to_list(request)


def _task_page(request, task, lift_form=None):
    can_lift = task.status == TaskStatus.EXCLUDED and request.user.has_perm(
        "followup.lift_exclusion"
    )
    if can_lift and lift_form is None:
        lift_form = LiftExclusionForm()
    context = {
        "task": task,
        "events": task.events.select_related("by"),
        "overdue": task.is_overdue(),
        "lift_form": lift_form if can_lift else None,
        "stage_summary": describe_stage(task.stage),
    }
    return render(request, "followup/task_detail.html", context)


@login_required
def task_detail(request, pk):
    require_perm(request, "followup.view_followuptask")
    task = get_object_or_404(_visible_tasks(request.user), pk=pk)
    record_event(Action.VIEW, request=request, obj=task, message=str(task.patient))
    return _task_page(request, task)


@login_required
@require_POST
def task_lift_exclusion(request, pk):
    """E7: a supervisor lifts an exclusion that no longer holds; the note is required."""
    require_perm(request, "followup.lift_exclusion")
    task = get_object_or_404(_visible_tasks(request.user), pk=pk)
    form = LiftExclusionForm(request.POST)
    if not form.is_valid():
        return _task_page(request, task, form)
    try:
        services.lift_exclusion(task, by=request.user, note=form.cleaned_data["note"])
    except services.ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已解除不予回访，任务重新进入回访队列。"))
    return redirect(task)

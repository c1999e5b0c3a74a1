"""Named state changes of policies and tasks (F5, F7, F12, E7). Views, commands and the API
call these; none writes the models directly."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from careloop.audit.services import record_event
from careloop.followup.choices import (
    OPEN_STATUSES,
    AssigneeRole,
    Repeat,
    TaskEventKind,
    TaskStatus,
)
from careloop.followup.models import FollowUpTask, Policy, Stage, TaskEvent
from careloop.followup.planning import (
    anchor_date,
    applies,
    exclusion,
    repeat_window,
    window,
)


class ServiceError(Exception):
    """A request the rules do not allow; the message is Chinese, for the user (S5)."""


def request_plan() -> None:
    """Ask the worker to run the planner now (after the current transaction commits)."""
    from careloop.jobs.scheduler import request_soon

    transaction.on_commit(lambda: request_soon("followup-plan"))


# -- policies --------------------------------------------------------------------------------


def activate_policy(policy: Policy, *, by=None) -> None:
    """F5: an active policy makes tasks; activation plans every visit for it once."""
    if policy.is_active:
        return
    if not policy.stages.exists():
        raise ServiceError(f"回访制度“{policy.name}”没有任何阶段，不能启用")
    policy.is_active = True
    policy.needs_full_plan = True
    policy.updated_at = timezone.now()
    # The audit trail records the change of is_active (the model is registered, S2).
    policy.save(update_fields=["is_active", "needs_full_plan", "updated_at"])
    request_plan()


def deactivate_policy(policy: Policy, *, by=None) -> int:
    """A deactivated policy stops: its tasks not yet started are cancelled (kept, with the
    reason); tasks in progress or finished stay. Re-activating restores the cancelled ones."""
    if not policy.is_active:
        return 0
    now = timezone.now()
    with transaction.atomic():
        policy.is_active = False
        policy.updated_at = now
        policy.save(update_fields=["is_active", "updated_at"])
        ids = list(
            FollowUpTask.objects.filter(
                policy=policy, status__in=[TaskStatus.PLANNED, TaskStatus.DUE]
            ).values_list("pk", flat=True)
        )
        for i in range(0, len(ids), 1000):
            FollowUpTask.objects.filter(pk__in=ids[i : i + 1000]).update(
                status=TaskStatus.CANCELLED, cancel_reason="回访制度已停用", updated_at=now
            )
        record_event(
            "update",
            actor=by,
            obj=policy,
            message=f"停用回访制度 {policy.slug}，取消未开始的任务 {len(ids)} 条",
        )
    return len(ids)


def policy_changed(policy: Policy, *, by=None) -> None:
    """After a policy or one of its stages was edited: re-plan every visit for it."""
    Policy.objects.filter(pk=policy.pk).update(needs_full_plan=True, updated_at=timezone.now())
    if policy.is_active:
        request_plan()


# -- tasks -----------------------------------------------------------------------------------


def _event(task, kind, by, note="", **detail):
    TaskEvent.objects.create(task=task, kind=kind, by=by, note=note, detail=detail)


def lift_exclusion(task: FollowUpTask, *, by, note: str) -> None:
    """E7: a supervisor lifts an exclusion that no longer holds; the task returns to the queue
    and the planner will not apply that exclusion to it again."""
    note = (note or "").strip()
    if not note:
        raise ServiceError("解除不予回访必须填写说明")
    with transaction.atomic():
        task = FollowUpTask.objects.select_for_update().get(pk=task.pk)
        if task.status != TaskStatus.EXCLUDED:
            raise ServiceError("该任务不是“不予回访”状态，无需解除")
        code = task.exclusion
        lifted = sorted({*filter(None, task.lifted.split(",")), code})
        today = timezone.localdate()
        task.status = TaskStatus.DUE if task.window_start <= today else TaskStatus.PLANNED
        task.exclusion = ""
        task.lifted = ",".join(lifted)
        task.updated_at = timezone.now()
        task.save(update_fields=["status", "exclusion", "lifted", "updated_at"])
        _event(task, TaskEventKind.LIFTED, by, note, exclusion=code)
        record_event("update", actor=by, obj=task, message=f"解除 {code}：{note}"[:500])
    # Another exclusion may still hold (E1 lifted, E6 remains): the planner decides.
    from careloop.patients.models import VisitChange

    VisitChange.objects.create(visit_id=task.visit_id)
    request_plan()


def _available(user, on: dt.date) -> bool:
    """F12: the planner's own rule (active, not on leave)."""
    from careloop.followup.planner import People

    return user is not None and People(on).available(user.pk)


def reassign_tasks(task_ids, *, to_user, by, note: str = "") -> int:
    """F12: a supervisor moves open tasks to another person; the planner then leaves that
    choice alone (``assigned_by_plan`` False). Returns the number moved."""
    if not _available(to_user, timezone.localdate()):
        raise ServiceError(
            f"{to_user.display_name if to_user else '该人员'} 已停用或正在请假，不能接收任务"
        )
    ids = [int(i) for i in task_ids]
    if not ids:
        raise ServiceError("请先选择要改派的任务")
    with transaction.atomic():
        tasks = list(
            FollowUpTask.objects.select_for_update()
            .filter(pk__in=ids, status__in=[TaskStatus.PLANNED, TaskStatus.DUE])
            .exclude(assignee=to_user)
        )
        now = timezone.now()
        events = []
        for task in tasks:
            events.append(
                TaskEvent(
                    task=task,
                    kind=TaskEventKind.REASSIGNED,
                    by=by,
                    note=note,
                    detail={"from": task.assignee_id, "to": to_user.pk},
                )
            )
            task.assignee = to_user
            task.assigned_by_plan = False
            task.updated_at = now
        FollowUpTask.objects.bulk_update(tasks, ["assignee", "assigned_by_plan", "updated_at"])
        TaskEvent.objects.bulk_create(events)
        if tasks:
            record_event(
                "update",
                actor=by,
                object_type="followup.followuptask",
                object_repr=f"{len(tasks)} 条任务 → {to_user.display_name}",
                message=note[:500],
            )
    return len(tasks)


def complete_task(task: FollowUpTask, *, by, recovered: bool | None = None, at=None) -> list:
    """F7: a task is done. Stages that depend on it, its next repeat (F3 second call, F4
    monthly then quarterly until recovered) and, on recovery, the after-recovery stages
    (F4 greeting SMS) are created now. Returns the tasks created."""
    at = at or timezone.now()
    with transaction.atomic():
        task = FollowUpTask.objects.select_for_update().select_related("stage").get(pk=task.pk)
        if task.status not in OPEN_STATUSES:
            raise ServiceError(f"任务当前状态为“{task.get_status_display()}”，不能完成")
        task.status = TaskStatus.COMPLETED
        task.completed_at = at
        task.recovered = recovered
        task.updated_at = timezone.now()
        task.save(update_fields=["status", "completed_at", "recovered", "updated_at"])
        _event(task, TaskEventKind.COMPLETED, by)
        return _follow_on(task, at)


def _follow_on(task: FollowUpTask, at: dt.datetime) -> list:
    from careloop.calendars.services import get_calendar
    from careloop.followup.planner import FactLoader, People, stage_rules

    policy = task.policy
    if not policy.is_active:
        return []
    rules = {r.id: r for r in stage_rules([policy])}
    done = rules.get(task.stage_id)
    if done is None:
        return []
    cal = get_calendar()
    facts = FactLoader(need_diagnoses=True).load(Q(pk=task.visit_id))
    if not facts:
        return []
    visit = facts[0]
    people = People(timezone.localdate())
    completed_on = timezone.localtime(at).date()
    wanted = []  # (rule, sequence, window, anchor_at)
    recovered = bool(task.recovered)
    # The same stage again (repeat rule).
    repeats = done.repeat == Repeat.EVERY or (
        done.repeat == Repeat.UNTIL_RECOVERED and not recovered
    )
    if repeats and (done.repeat_max is None or task.sequence < done.repeat_max):
        wanted.append((done, task.sequence + 1, repeat_window(completed_on, done, cal), at))
    for rule in rules.values():
        if rule.after_recovery:
            if recovered and rule.id != done.id:
                wanted.append((rule, 1, window(completed_on, rule, cal), at))
            continue
        if rule.depends_on_id != done.id or not applies(rule, visit):
            continue
        if rule.repeat == Repeat.UNTIL_RECOVERED and recovered:
            continue
        if rule.anchor == "previous":
            wanted.append((rule, 1, window(completed_on, rule, cal), at))
        else:
            anchor = anchor_date(rule, visit)
            if anchor is not None:
                wanted.append((rule, 1, window(anchor, rule, cal), at))
    created = []
    today = timezone.localdate()
    for rule, sequence, (opens, closes), anchor_at in wanted:
        if FollowUpTask.objects.filter(
            stage_id=rule.id, visit_id=task.visit_id, sequence=sequence
        ).exists():
            continue
        code = exclusion(visit, rule)
        status = (
            TaskStatus.EXCLUDED
            if code
            else (TaskStatus.DUE if opens <= today else TaskStatus.PLANNED)
        )
        created.append(
            FollowUpTask.objects.create(
                policy=policy,
                stage_id=rule.id,
                visit_id=task.visit_id,
                patient_id=visit.patient_id,
                department_id=visit.department_id,
                sequence=sequence,
                channel=rule.channel,
                assignee_role=rule.assignee_role,
                assignee_id=people.resolve(rule, visit)
                if rule.assignee_role != AssigneeRole.AGENT_POOL
                else None,
                anchor_at=anchor_at,
                window_start=opens,
                window_end=closes,
                status=status,
                exclusion=code,
            )
        )
    return created


# -- preview ---------------------------------------------------------------------------------


@dataclass
class PreviewRow:
    visit: object
    window_start: dt.date
    window_end: dt.date
    exclusion: str


@dataclass
class Preview:
    considered: int = 0
    matched: int = 0
    excluded: int = 0
    rows: list[PreviewRow] = field(default_factory=list)


def preview_stage(stage: Stage, *, start: dt.date, end: dt.date, limit: int = 200) -> Preview:
    """F5: which visits whose anchor falls in [start, end] the stage (saved or as entered in
    the form, unsaved) would catch, with their windows and exclusions. Writes nothing."""
    from careloop.calendars.services import get_calendar
    from careloop.followup.planner import FactLoader
    from careloop.followup.planning import StageRule
    from careloop.lib.icd10 import parse_codes
    from careloop.patients.models import Visit

    departments = frozenset()
    if stage.pk:
        departments = frozenset(stage.departments.values_list("pk", flat=True))
    elif getattr(stage, "_preview_departments", None):
        departments = frozenset(d.pk for d in stage._preview_departments)
    policy = stage.policy
    rule = StageRule(
        id=stage.pk or 0,
        policy_id=policy.pk,
        code=stage.code,
        visit_types=frozenset(stage.visit_types or ()),
        department_kinds=frozenset(stage.department_kinds or ()),
        departments=departments,
        first_visit=stage.first_visit,
        lost=stage.lost,
        special=stage.special,
        chronic=stage.chronic,
        min_cost=stage.min_cost,
        age_min=stage.age_min,
        age_max=stage.age_max,
        diagnosis=parse_codes(stage.diagnosis_codes),
        anchor=stage.anchor if stage.anchor != "previous" else "discharge",
        start_day=stage.window_start_day,
        last_day=stage.window_last_day,
        channel=stage.channel,
        assignee_role=stage.assignee_role,
        effective_from=policy.effective_from,
        sensitive=parse_codes(policy.sensitive_icd10),
    )
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    if rule.anchor == "visit":
        q = Q(visit_at__gte=lo, visit_at__lt=hi)
    else:
        q = Q(discharged_at__gte=lo, discharged_at__lt=hi)
    cal = get_calendar()
    loader = FactLoader(need_diagnoses=True)
    result = Preview()
    matched_ids = []
    ids = list(Visit.objects.filter(q).order_by("pk").values_list("pk", flat=True))
    result.considered = len(ids)
    for i in range(0, len(ids), 2000):
        for visit in loader.load(Q(pk__in=ids[i : i + 2000])):
            if not applies(rule, visit):
                continue
            anchor = anchor_date(rule, visit)
            if anchor is None:
                continue
            result.matched += 1
            opens, closes = window(anchor, rule, cal)
            code = exclusion(visit, rule)
            if code:
                result.excluded += 1
            if len(matched_ids) < limit:
                matched_ids.append((visit.visit_id, opens, closes, code))
    visits = Visit.objects.select_related("patient", "department").in_bulk(
        [m[0] for m in matched_ids]
    )
    result.rows = [PreviewRow(visits[v], o, c, e) for v, o, c, e in matched_ids]
    return result

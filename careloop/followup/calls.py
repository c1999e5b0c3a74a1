"""F6–F10: what happens on a follow-up call, as named services the workspace calls.

Claiming is a conditional UPDATE (two agents, one winner); every save takes a request key so a
double submit records once; outcomes apply their rules here (F8): unreachable after N failed
attempts on D different days, reschedule to the agreed time, deceased → E4, refusal → E6.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from careloop.followup.choices import (
    FAILED_OUTCOMES,
    AttemptOutcome,
    TaskEventKind,
    TaskStatus,
)
from careloop.followup.models import (
    CallAttempt,
    CallScript,
    FollowUpRecord,
    FollowUpTask,
    TaskEvent,
    parse_call_hours,
)
from careloop.followup.services import ServiceError, complete_task


class ClaimError(ServiceError):
    """Somebody else holds the task; ``holder`` says who."""

    def __init__(self, message: str, holder=None):
        super().__init__(message)
        self.holder = holder


# -- F6 call hours ---------------------------------------------------------------------------


def in_call_hours(call_hours: str, moment: dt.datetime, is_workday: bool) -> bool:
    """F6: callable now = a working day and inside one of the policy's call-hour spans."""
    if not is_workday:
        return False
    hhmm = f"{moment:%H:%M}"
    return any(start <= hhmm < end for start, end in parse_call_hours(call_hours))


def callable_now(task: FollowUpTask, now: dt.datetime | None = None) -> bool:
    from careloop.calendars.services import get_calendar

    local = timezone.localtime(now or timezone.now())
    if task.next_attempt_at and task.next_attempt_at > local:
        return False
    if not (task.window_start <= local.date()):
        return False
    return in_call_hours(task.policy.call_hours, local, get_calendar().is_workday(local.date()))


# -- claiming --------------------------------------------------------------------------------


def claim_task(task: FollowUpTask, *, by) -> FollowUpTask:
    """F7: one person claims a due task. The conditional UPDATE is the lock: of two agents
    clicking together exactly one changes the row; the other learns who has it."""
    now = timezone.now()
    claimed = FollowUpTask.objects.filter(
        Q(assignee__isnull=True) | Q(assignee=by),
        pk=task.pk,
        status=TaskStatus.DUE,
    ).update(status=TaskStatus.IN_PROGRESS, assignee=by, claimed_at=now, updated_at=now)
    task = FollowUpTask.objects.select_related("assignee").get(pk=task.pk)
    if claimed:
        TaskEvent.objects.create(task=task, kind=TaskEventKind.CLAIMED, by=by)
        return task
    if task.status == TaskStatus.IN_PROGRESS and task.assignee_id == by.pk:
        return task  # already mine (a second click)
    if task.assignee_id and task.assignee_id != by.pk:
        raise ClaimError(
            f"该任务已由 {task.assignee.display_name} 领取"
            if task.status == TaskStatus.IN_PROGRESS
            else f"该任务已分配给 {task.assignee.display_name}",
            task.assignee,
        )
    raise ClaimError(f"该任务当前状态为“{task.get_status_display()}”，不能领取")


def release_task(task: FollowUpTask, *, by) -> None:
    """Put a claimed task back (the agent keeps it assigned; it is due again)."""
    updated = FollowUpTask.objects.filter(
        pk=task.pk, status=TaskStatus.IN_PROGRESS, assignee=by
    ).update(status=TaskStatus.DUE, claimed_at=None, updated_at=timezone.now())
    if updated:
        TaskEvent.objects.create(task_id=task.pk, kind=TaskEventKind.RELEASED, by=by)


def _held(task: FollowUpTask, by) -> FollowUpTask:
    task = FollowUpTask.objects.select_for_update().select_related("policy").get(pk=task.pk)
    if task.status != TaskStatus.IN_PROGRESS or task.assignee_id != by.pk:
        raise ServiceError("请先领取该任务（或任务已被他人处理）")
    return task


# -- F8 attempts -----------------------------------------------------------------------------


def is_unreachable(failed_days: list[dt.date], attempts: int, days: int) -> bool:
    """F8: unreachable after ``attempts`` failed attempts on at least ``days`` different days."""
    return len(failed_days) >= attempts and len(set(failed_days)) >= days


@dataclass
class AttemptResult:
    attempt: CallAttempt
    status: str  # the task's status afterwards
    message: str


def record_attempt(
    task: FollowUpTask,
    *,
    by,
    outcome: str,
    phone=None,
    duration_seconds: int = 0,
    note: str = "",
    agreed_at: dt.datetime | None = None,
    recording_ref: str = "",
    request_key: str | None = None,
    at: dt.datetime | None = None,
) -> AttemptResult:
    """F8: record one attempt and apply its rule. Reached outcomes leave the task in progress
    for the record (``complete_followup``)."""
    if outcome not in AttemptOutcome.values:
        raise ServiceError("请选择拨打结果")
    if request_key:
        found = CallAttempt.objects.filter(request_key=request_key).first()
        if found is not None:
            found_task = FollowUpTask.objects.get(pk=found.task_id)
            return AttemptResult(found, found_task.status, "已记录（重复提交被忽略）")
    at = at or timezone.now()
    if outcome == AttemptOutcome.RESCHEDULE:
        if agreed_at is None:
            raise ServiceError("约定改时间：请填写约定的回访时间")
        if agreed_at <= at:
            raise ServiceError("约定的回访时间必须晚于现在")
    if phone is not None and phone.patient_id != task.patient_id:
        raise ServiceError("所拨号码不属于该患者")
    try:
        with transaction.atomic():
            task = _held(task, by)
            attempt = CallAttempt.objects.create(
                task=task, at=at, by=by, phone=phone, outcome=outcome,
                duration_seconds=max(int(duration_seconds or 0), 0), note=note,
                agreed_at=agreed_at, recording_ref=recording_ref, request_key=request_key or None,
            )  # fmt: skip
            TaskEvent.objects.create(
                task=task, kind=TaskEventKind.ATTEMPT, by=by, at=at, note=note,
                detail={"outcome": outcome},
            )  # fmt: skip
            status, message = _apply_outcome(task, attempt, by, at)
    except IntegrityError:
        found = CallAttempt.objects.get(request_key=request_key)
        return AttemptResult(found, FollowUpTask.objects.get(pk=found.task_id).status, "已记录")
    return AttemptResult(attempt, status, message)


def _apply_outcome(task: FollowUpTask, attempt: CallAttempt, by, at) -> tuple[str, str]:
    from careloop.patients.choices import Source
    from careloop.patients.services import record_death, record_refusal

    outcome = attempt.outcome
    if outcome in FAILED_OUTCOMES:
        failed = [
            timezone.localtime(a).date()
            for a in task.attempts.filter(outcome__in=list(FAILED_OUTCOMES)).values_list(
                "at", flat=True
            )
        ]
        policy = task.policy
        if is_unreachable(failed, policy.unreachable_attempts, policy.unreachable_days):
            _set(task, status=TaskStatus.UNREACHABLE, completed_at=at, claimed_at=None)
            TaskEvent.objects.create(
                task=task, kind=TaskEventKind.UNREACHABLE, by=by,
                note=f"{len(failed)} 次未接通，{len(set(failed))} 个不同日期（F8）",
            )  # fmt: skip
            return TaskStatus.UNREACHABLE, "已判定失访"
        _set(task, status=TaskStatus.DUE, claimed_at=None)
        return TaskStatus.DUE, f"未接通（第 {len(failed)} 次），任务已放回待回访"
    if outcome == AttemptOutcome.RESCHEDULE:
        agreed = timezone.localtime(attempt.agreed_at)
        fields = {
            "status": TaskStatus.DUE,
            "claimed_at": None,
            "next_attempt_at": attempt.agreed_at,
        }
        if agreed.date() > task.window_end:
            fields["window_end"] = agreed.date()  # the patient's agreed day is inside the window
        _set(task, **fields)
        TaskEvent.objects.create(
            task=task, kind=TaskEventKind.RESCHEDULED, by=by,
            note=f"约定 {agreed:%Y-%m-%d %H:%M} 再回访",
        )  # fmt: skip
        return TaskStatus.DUE, f"已约定 {agreed:%m-%d %H:%M} 再回访"
    if outcome == AttemptOutcome.DECEASED:
        record_death(task.patient, source=Source.CALL, at=at)
        _exclude_patient(task.patient_id, "E4", by, "回访得知患者已故（F8）")
        return TaskStatus.EXCLUDED, "已登记患者已故，该患者的未完成任务不再回访（E4）"
    if outcome == AttemptOutcome.REFUSED:
        record_refusal(task.patient, source=Source.CALL, by=by, reason="电话回访中拒绝")
        _exclude_patient(task.patient_id, "E6", by, "患者拒绝回访（F8）")
        return TaskStatus.EXCLUDED, "已登记患者拒访，该患者的未完成任务不再回访（E6）"
    return TaskStatus.IN_PROGRESS, "已接通，请填写回访记录"


def _set(task: FollowUpTask, **fields) -> None:
    fields["updated_at"] = timezone.now()
    for name, value in fields.items():
        setattr(task, name, value)
    task.save(update_fields=list(fields))


def _exclude_patient(patient_id: int, code: str, by, note: str) -> None:
    """E4/E6 at once for every open task of the patient (the planner would do the same on its
    next run; the agent should not see them in the queue meanwhile)."""
    open_tasks = list(
        FollowUpTask.objects.select_for_update().filter(
            patient_id=patient_id,
            status__in=[TaskStatus.PLANNED, TaskStatus.DUE, TaskStatus.IN_PROGRESS],
        )
    )
    now = timezone.now()
    for t in open_tasks:
        t.status, t.exclusion, t.claimed_at, t.updated_at = TaskStatus.EXCLUDED, code, None, now
    FollowUpTask.objects.bulk_update(
        open_tasks, ["status", "exclusion", "claimed_at", "updated_at"]
    )
    TaskEvent.objects.bulk_create(
        [TaskEvent(task=t, kind=TaskEventKind.EXCLUDED, by=by, note=note) for t in open_tasks]
    )


# -- F9 the record ---------------------------------------------------------------------------

RECORD_FIELDS = (
    "condition", "recovered", "adherence", "exercise_life", "education", "opinions", "overall",
    "next_follow_up",
)  # fmt: skip


def complete_followup(
    task: FollowUpTask, *, by, record: dict, request_key: str | None = None, at=None
) -> FollowUpRecord:
    """F9: save the record and complete the task (F7); the next stage or repeat is created
    (complete_task); a re-follow-up date creates one more task of the same stage. A double
    submit returns the first record."""
    existing = FollowUpRecord.objects.filter(task_id=task.pk).first()
    if existing is not None:
        return existing
    at = at or timezone.now()
    values = {k: record[k] for k in RECORD_FIELDS if k in record}
    next_day = values.get("next_follow_up")
    if next_day is not None and next_day <= timezone.localtime(at).date():
        raise ServiceError("再次回访日期必须晚于今天")
    with transaction.atomic():
        task = _held(task, by)
        rec = FollowUpRecord.objects.create(task=task, by=by, at=at, **values)
        complete_task(task, by=by, recovered=bool(values.get("recovered")), at=at)
        if next_day is not None:
            _schedule_again(task, next_day, by, at)
    return rec


def _schedule_again(task: FollowUpTask, day: dt.date, by, at) -> FollowUpTask:
    """F1/F9 "as the condition requires": one more task of the same stage, opening on the day
    the agent chose (moved onto a working day, F6) and open for a week."""
    from careloop.calendars.services import get_calendar

    cal = get_calendar()
    opens, closes = cal.window(day, day + dt.timedelta(days=6))
    sequence = (
        FollowUpTask.objects.filter(stage_id=task.stage_id, visit_id=task.visit_id)
        .order_by("-sequence")
        .values_list("sequence", flat=True)
        .first()
    ) + 1
    again = FollowUpTask.objects.create(
        policy_id=task.policy_id, stage_id=task.stage_id, visit_id=task.visit_id,
        patient_id=task.patient_id, department_id=task.department_id, sequence=sequence,
        channel=task.channel, assignee_role=task.assignee_role, assignee=by,
        assigned_by_plan=False, anchor_at=at, window_start=opens, window_end=closes,
        status=TaskStatus.DUE if opens <= timezone.localdate() else TaskStatus.PLANNED,
    )  # fmt: skip
    TaskEvent.objects.create(
        task=again, kind=TaskEventKind.CREATED, by=by, note=f"回访员预约再次回访 {day:%Y-%m-%d}"
    )
    return again


# -- F10 scripts -----------------------------------------------------------------------------

PLACEHOLDERS = ("姓名", "称呼", "医院", "科室", "回访员", "出院日期", "就诊日期")


def script_context(task: FollowUpTask, agent) -> dict:
    visit, patient = task.visit, task.patient
    return {
        "姓名": patient.name,
        "称呼": patient.title,
        "医院": settings.HOSPITAL_NAME,
        "科室": task.department.name,
        "回访员": agent.display_name if agent else "",
        "出院日期": f"{timezone.localtime(visit.discharged_at):%Y年%m月%d日}"
        if visit.discharged_at
        else "",
        "就诊日期": f"{timezone.localtime(visit.visit_at):%Y年%m月%d日}" if visit.visit_at else "",
    }


def fill(text: str, context: dict) -> str:
    for key, value in context.items():
        text = text.replace("{" + key + "}", str(value))
    return text


def unknown_placeholders(text: str) -> list[str]:
    import re

    return sorted({m for m in re.findall(r"\{([^{}]+)\}", text or "") if m not in PLACEHOLDERS})


def script_for(task: FollowUpTask) -> CallScript | None:
    code = task.stage.script or (
        "inpatient" if task.visit.visit_type == "inpatient" else "outpatient"
    )
    return (
        CallScript.objects.filter(code=code).first()
        or CallScript.objects.filter(code="inpatient").first()
    )


def render_script(script: CallScript, task: FollowUpTask, agent) -> dict:
    context = script_context(task, agent)
    return {
        "name": script.name,
        "steps": [
            {
                "key": s.get("key", str(i)),
                "title": s.get("title", ""),
                "text": fill(s.get("text", ""), context),
            }
            for i, s in enumerate(script.steps)
        ],
        "satisfied_reply": fill(script.satisfied_reply, context),
        "dissatisfied_reply": fill(script.dissatisfied_reply, context),
    }

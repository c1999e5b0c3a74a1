"""F11: clinical escalations to the visit's attending doctor, acknowledged within 24 hours."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from careloop.accounts.roles import Role
from careloop.cases.choices import (
    DeadlineSubject,
    EscalationStatus,
)
from careloop.cases.models import (
    Escalation,
)
from careloop.cases.services.common import (
    CaseError,
    _audit,
    _department_heads,
    _fmt,
    _tell,
    start_clock,
)

# --- F11 escalations --------------------------------------------------------------------------


def escalation_url(esc) -> str:
    return f"/cases/escalations/{esc.pk}/"


def raise_escalation(task, *, by, reason: str, description: str, request_key=None) -> Escalation:
    """F11: the attending doctor of the task's visit is the addressee and must acknowledge
    within 24 hours; a visit without a registered doctor goes straight to the department head.
    A double submit (same request_key) returns the first escalation."""
    description = (description or "").strip()
    if not description:
        raise CaseError("请填写患者反映的情况")
    if request_key:
        found = Escalation.objects.filter(request_key=request_key).first()
        if found is not None:
            return found
    visit = task.visit
    now = timezone.now()
    try:
        with transaction.atomic():
            esc = Escalation(
                task=task, visit=visit, patient_id=task.patient_id,
                department_id=task.department_id, raised_by=by, raised_at=now,
                doctor=visit.attending_doctor, reason=reason, description=description,
                request_key=request_key or None,
            )  # fmt: skip
            start_clock(esc, DeadlineSubject.ESCALATION, now)
            esc.save()
            title = f"临床转介：{task.patient.name}（{esc.reason_label}）"
            body = f"{description[:80]} · 请在 {_fmt(esc.due_at)} 前确认"
            if esc.doctor_id:
                users = [esc.doctor]
            else:
                users = _department_heads(esc.department_id)
                esc.escalation_level = 1
                esc.save(update_fields=["escalation_level"])
            _tell(users, title=title, body=body, url=escalation_url(esc), kind="escalation",
                  key=f"escalation:{esc.pk}:new", sms=True)  # fmt: skip
            return esc
    except IntegrityError:
        return Escalation.objects.get(request_key=request_key)


def may_answer(esc: Escalation, user) -> bool:
    if esc.doctor_id == user.pk:
        return True
    return user.has_perm("cases.acknowledge_escalation") and (
        esc.department_id in user.department_ids and user.has_role(Role.DEPT_HEAD, Role.HEAD_NURSE)
    )


def acknowledge_escalation(esc: Escalation, *, by, action_taken: str = "", done=False, at=None):
    """F11: the doctor (or the department head) acknowledges, and records what was done;
    ``done`` closes the escalation, which requires the record."""
    action_taken = (action_taken or "").strip()
    at = at or timezone.now()
    with transaction.atomic():
        esc = Escalation.objects.select_for_update().get(pk=esc.pk)
        if not may_answer(esc, by):
            raise CaseError("只有该就诊的主管医生或本科室科主任可以确认")
        if esc.status == EscalationStatus.CLOSED:
            raise CaseError("该转介已处理完毕")
        # The record may have been written when acknowledging; completing needs one to exist.
        if done and not (action_taken or esc.action_taken.strip()):
            raise CaseError("请填写处理情况")
        if esc.status == EscalationStatus.OPEN:
            esc.status, esc.acknowledged_at, esc.acknowledged_by = (
                EscalationStatus.ACKNOWLEDGED,
                at,
                by,
            )
        if action_taken:
            esc.action_taken = action_taken
        if done:
            esc.status, esc.closed_at = EscalationStatus.CLOSED, at
        esc.save()
        _audit(esc, by, "确认并处理" if done else "确认")
        _tell([esc.raised_by], title=f"医生已{'处理' if done else '确认'}转介：{esc.patient.name}",
              body=action_taken[:100], url=escalation_url(esc), kind="escalation",
              key=f"escalation:{esc.pk}:{'done' if done else 'ack'}")  # fmt: skip
    return esc

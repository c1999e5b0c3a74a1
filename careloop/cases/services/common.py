"""What every part of the loop shares: the Chinese error, the C3 deadline clock on records, and
who to tell (the inbox)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from careloop.accounts.roles import Role
from careloop.cases import deadlines
from careloop.cases.choices import (
    CaseKind,
    CaseStatus,
    DeadlineSubject,
    DeadlineUnit,
    DisposalStatus,
    EscalationStatus,
    RefollowStatus,
)
from careloop.cases.models import (
    Case,
    CaseRefollow,
    DeadlineRule,
    DisposalForm,
    Escalation,
)

ACKNOWLEDGE_WITHIN = dt.timedelta(hours=24)


class CaseError(Exception):
    """The message is Chinese, for the user (S5)."""


# --- Deadlines (C3) -------------------------------------------------------------------------

# Used when the hospital has no rule row for a subject: seed 003 8 (7 days for a complaint
# reply), F11 (24 hours for the doctor), and three working days for each disposal step.
DEFAULT_RULES = {
    DeadlineSubject.CASE: deadlines.DeadlineSpec(7, DeadlineUnit.CALENDAR_DAYS, 48, 2),
    DeadlineSubject.DISPOSAL_DEPARTMENT: deadlines.DeadlineSpec(
        3, DeadlineUnit.WORKING_DAYS, 24, 2
    ),
    DeadlineSubject.DISPOSAL_MEDICAL: deadlines.DeadlineSpec(3, DeadlineUnit.WORKING_DAYS, 24, 2),
    DeadlineSubject.ESCALATION: deadlines.DeadlineSpec(24, DeadlineUnit.HOURS, 4, 24),
    DeadlineSubject.REFOLLOW: deadlines.DeadlineSpec(3, DeadlineUnit.WORKING_DAYS, 24, 0),
}


def rule_for(subject: str, kind: str = "", severity: str = "") -> deadlines.DeadlineSpec:
    """The most specific rule: kind and severity, then kind, then severity, then any."""
    rows = {
        (r.kind, r.severity): r
        for r in DeadlineRule.objects.filter(
            subject=subject, kind__in=[kind, ""], severity__in=[severity, ""]
        )
    }
    for key in ((kind, severity), (kind, ""), ("", severity), ("", "")):
        row = rows.get(key)
        if row is not None:
            return deadlines.DeadlineSpec(row.amount, row.unit, row.warn_hours, row.second_after)
    return DEFAULT_RULES[subject]


def _calendar():
    from careloop.calendars.services import get_calendar

    return get_calendar()


def start_clock(obj, subject: str, start: dt.datetime, kind: str = "", severity: str = "") -> None:
    """Set ``due_at``/``warn_at``/``second_due_at`` of a case, form step or escalation (not saved)."""
    spec = rule_for(subject, kind, severity)
    cal = _calendar()
    local = timezone.localtime(start)
    obj.due_at = deadlines.due(local, spec, cal)
    obj.second_due_at = deadlines.second_due(obj.due_at, spec, cal)
    obj.warn_at = obj.due_at - dt.timedelta(hours=spec.warn_hours)
    obj.reminded_at = None
    obj.escalation_level = 0


def start_case_clock(case: Case, start: dt.datetime) -> None:
    """C3's reply clock. Praise has nothing to answer by a date — it has no clock unless the
    hospital writes a rule for praise itself."""
    if (
        case.kind == CaseKind.PRAISE
        and not DeadlineRule.objects.filter(
            subject=DeadlineSubject.CASE, kind=CaseKind.PRAISE
        ).exists()
    ):
        case.due_at = case.second_due_at = case.warn_at = case.reminded_at = None
        case.escalation_level = 0
        return
    start_clock(case, DeadlineSubject.CASE, start, case.kind, case.severity)


def deadline_state(obj, now=None) -> str:
    """ok / near / overdue / done of anything with a clock."""
    now = now or timezone.now()
    if _clock_stopped(obj):
        return deadlines.DONE
    if obj.due_at is None:
        return deadlines.OK
    if now >= obj.due_at:
        return deadlines.OVERDUE
    if obj.warn_at is not None and now >= obj.warn_at:
        return deadlines.NEAR
    return deadlines.OK


def _clock_stopped(obj) -> bool:
    if isinstance(obj, Case):
        # The clock is the reply to the patient (C3).
        return obj.status in (CaseStatus.REPLIED, CaseStatus.CLOSED)
    if isinstance(obj, DisposalForm):
        return obj.status == DisposalStatus.CLOSED
    if isinstance(obj, Escalation):
        return obj.status != EscalationStatus.OPEN
    if isinstance(obj, CaseRefollow):
        return obj.status != RefollowStatus.DUE
    return False


# --- People to tell ---------------------------------------------------------------------------


def people(*roles, department_id=None):
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(is_active=True, groups__name__in=list(roles))
    if department_id is not None:
        users = users.filter(departments=department_id)
    return list(users.distinct().order_by("pk"))


def _tell(users, *, title, body="", url="", kind="case", key=None, sms=False):
    from careloop.notify.inbox import notify

    return notify(users, title=title, body=body, url=url, kind=kind, key=key, sms=sms)


def _department_heads(department_id):
    return people(Role.DEPT_HEAD, Role.HEAD_NURSE, department_id=department_id)


def _stamp(moment) -> int:
    return int(moment.timestamp())


def _fmt(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else "—"


def _audit(obj, by, message):
    from careloop.audit.services import record_event

    record_event("update", actor=by, obj=obj, message=message)

"""F11: raising a clinical escalation from a follow-up call. The doctor must acknowledge within
24 hours; acknowledgement, reminders and the department head's escalation come with the loop
issue (cases/deadlines)."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from careloop.cases.models import Escalation

ACKNOWLEDGE_WITHIN = dt.timedelta(hours=24)


class CaseError(Exception):
    """The message is Chinese, for the user (S5)."""


def raise_escalation(task, *, by, reason: str, description: str, request_key=None) -> Escalation:
    """F11: the attending doctor of the task's visit is the addressee; a double submit (same
    request_key) returns the first escalation."""
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
            return Escalation.objects.create(
                task=task,
                visit=visit,
                patient_id=task.patient_id,
                department_id=task.department_id,
                raised_by=by,
                raised_at=now,
                doctor=visit.attending_doctor,
                reason=reason,
                description=description,
                due_at=now + ACKNOWLEDGE_WITHIN,
                request_key=request_key or None,
            )
    except IntegrityError:
        return Escalation.objects.get(request_key=request_key)

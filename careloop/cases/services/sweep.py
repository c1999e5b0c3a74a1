"""The hourly sweep (C3, C1, F11): remind before a deadline, escalate after it."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from careloop.accounts.roles import Role
from careloop.cases import deadlines
from careloop.cases.choices import (
    CaseEventKind,
    CaseStatus,
    DisposalStatus,
    EscalationStatus,
    RefollowStatus,
)
from careloop.cases.models import (
    Case,
    CaseRefollow,
    DisposalForm,
    Escalation,
)
from careloop.cases.services.cases import (
    _event,
    case_url,
)
from careloop.cases.services.common import _clock_stopped, _fmt, _stamp, _tell, people
from careloop.cases.services.disposal import (
    disposal_url,
)
from careloop.cases.services.escalations import (
    escalation_url,
)

# --- The hourly sweep (C3, C1, F11) -----------------------------------------------------------


class _People:
    """The sweep's address book: each (roles, department) list is read once per run, not once
    per item (the bench showed people() as a fifth of a sweep's time)."""

    def __init__(self):
        self._found: dict = {}

    def of(self, *roles, department_id=None) -> list:
        key = (roles, department_id)
        if key not in self._found:
            self._found[key] = people(*roles, department_id=department_id)
        return self._found[key]

    def heads(self, department_id) -> list:
        return self.of(Role.DEPT_HEAD, Role.HEAD_NURSE, department_id=department_id)


def _targets(obj, level: int, book: _People) -> list:
    """Escalation order: cases and disposal forms go to the service supervisor, then medical
    affairs; a clinical escalation goes to the department head, then medical affairs."""
    if level >= 2:
        return book.of(Role.MEDICAL_AFFAIRS)
    if isinstance(obj, Escalation):
        return book.heads(obj.department_id)
    return book.of(Role.SUPERVISOR)


def _owners(obj, book: _People) -> list:
    """Who is reminded before the deadline."""
    if isinstance(obj, Case):
        return [obj.handler] if obj.handler_id else book.of(Role.SUPERVISOR)
    if isinstance(obj, DisposalForm):
        if obj.status == DisposalStatus.DEPARTMENT:
            return book.heads(obj.department_id)
        return book.of(Role.MEDICAL_AFFAIRS)
    if isinstance(obj, Escalation):
        return [obj.doctor] if obj.doctor_id else book.heads(obj.department_id)
    if isinstance(obj, CaseRefollow):
        return [obj.assignee] if obj.assignee_id else book.of(Role.SUPERVISOR)
    return []


def _describe(obj) -> tuple[str, str, str]:
    if isinstance(obj, Case):
        return f"{obj.get_kind_display()}“{obj.summary}”", case_url(obj), "case"
    if isinstance(obj, DisposalForm):
        return (
            f"处置反馈表（{obj.department}，{obj.get_status_display()}）",
            disposal_url(obj),
            "disposal",
        )
    if isinstance(obj, Escalation):
        return (
            f"临床转介（{obj.department}，{obj.reason_label}）",
            escalation_url(obj),
            "escalation",
        )
    return f"结案回访“{obj.case.summary}”", case_url(obj.case), "case"


def open_querysets(now) -> dict:
    """What the sweep reads, per model. Only what has something left to do: a reminder due
    inside its warning window, a first level not yet reached, a second level now due. An item
    that went overdue unreminded (the job was down, or a rule warns 0 hours ahead) is
    escalated, not re-read every hour."""
    horizon = (
        Q(warn_at__lte=now, due_at__gt=now, reminded_at__isnull=True)
        | Q(due_at__lte=now, escalation_level=0)
        | Q(second_due_at__lte=now, escalation_level__lt=2)
    )
    return {
        "Case": Case.objects.filter(horizon)
        .exclude(status__in=[CaseStatus.REPLIED, CaseStatus.CLOSED])
        .select_related("handler")
        .order_by(),
        "DisposalForm": DisposalForm.objects.filter(horizon)
        .exclude(status=DisposalStatus.CLOSED)
        .select_related("department")
        .order_by(),
        "Escalation": Escalation.objects.filter(horizon, status=EscalationStatus.OPEN)
        .select_related("department", "doctor")
        .order_by(),
        "CaseRefollow": CaseRefollow.objects.filter(horizon, status=RefollowStatus.DUE)
        .select_related("case", "assignee")
        .order_by(),
    }


def _open_items(now):
    for queryset in open_querysets(now).values():
        yield from queryset


def sweep_deadlines(now=None) -> dict:
    """The hourly job: remind owners of what is near its deadline (once), escalate what is
    overdue (once per level, exactly once across workers by a conditional UPDATE)."""
    now = now or timezone.now()
    counts = {"reminded": 0, "escalated": 0}
    book = _People()
    for obj in list(_open_items(now)):
        # One transaction per item: the mark and the messages it stands for commit together,
        # so a crash in between leaves the item to the next sweep rather than marked but untold.
        with transaction.atomic():
            reminded, escalated = _sweep_one(obj, now, book)
        counts["reminded"] += reminded
        counts["escalated"] += escalated
    return counts


def _sweep_one(obj, now, book: _People) -> tuple[int, int]:
    model = type(obj)
    # The list was read at the start of the sweep; since then someone may have answered the
    # case, signed the form's step (a new clock) or acknowledged the escalation. Lock the row
    # and act only on the clock that was read.
    current = (
        model.objects.select_for_update()
        .filter(pk=obj.pk, due_at=obj.due_at, escalation_level=obj.escalation_level)
        .first()
    )
    if current is None or _clock_stopped(current):
        return 0, 0
    for field in ("reminded_at", "status"):
        if hasattr(current, field):
            setattr(obj, field, getattr(current, field))
    what, url, kind = _describe(obj)
    reminded = escalated = 0
    near = obj.warn_at is not None and obj.warn_at <= now < obj.due_at
    if (
        near
        and obj.reminded_at is None
        and model.objects.filter(pk=obj.pk, reminded_at__isnull=True).update(reminded_at=now)
    ):
        reminded = 1
        _tell(_owners(obj, book), title=f"临近期限：{what}", body=f"期限 {_fmt(obj.due_at)}",
              url=url, kind="deadline", key=f"{kind}:{obj.pk}:warn:{_stamp(obj.due_at)}")  # fmt: skip
        if isinstance(obj, Case):
            _event(obj, CaseEventKind.REMINDED, None, note=f"期限 {_fmt(obj.due_at)}", at=now)
    level = deadlines.escalation_level(obj.due_at, obj.second_due_at, now)
    if level > obj.escalation_level and model.objects.filter(
        pk=obj.pk, escalation_level__lt=level
    ).update(escalation_level=level):
        escalated = 1
        # Escalation order: a level the job skipped (it did not run for a while) is still
        # told, first — the supervisor hears before medical affairs.
        for step in range(obj.escalation_level + 1, level + 1):
            targets = _targets(obj, step, book)
            _tell(targets, title=f"已逾期：{what}", body=f"期限 {_fmt(obj.due_at)}，仍未完成",
                  url=url, kind="deadline", key=f"{kind}:{obj.pk}:esc{step}:{_stamp(obj.due_at)}",
                  sms=True)  # fmt: skip
            if isinstance(obj, Case):
                names = "、".join(u.display_name for u in targets) or "（无人）"
                _event(obj, CaseEventKind.ESCALATED, None, at=now,
                       note=f"逾期第 {step} 级升级，已通知：{names}")  # fmt: skip
    return reminded, escalated

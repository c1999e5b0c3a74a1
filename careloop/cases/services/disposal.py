"""C1: the disposal form (病人回访处置反馈表) — opened by any 差, signed by the department,
then medical affairs."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from careloop.accounts.roles import Role
from careloop.cases.choices import (
    DeadlineSubject,
    DisposalStatus,
)
from careloop.cases.models import (
    DisposalForm,
)
from careloop.cases.services.common import (
    CaseError,
    _audit,
    _department_heads,
    _fmt,
    _stamp,
    _tell,
    people,
    start_clock,
)

# --- Disposal forms (C1) ----------------------------------------------------------------------


def poor_items(record=None, response=None) -> list[str]:
    """The names of what was rated 差: questionnaire dimensions/questions, then 总评价."""
    from careloop.followup.choices import Rating

    items = []
    if response is not None:
        for answer in response.answers.filter(rating=Rating.POOR).select_related("question"):
            label = answer.get_dimension_display() if answer.dimension else answer.question.text
            if label not in items:
                items.append(str(label))
    if record is not None and record.overall == Rating.POOR and "总评价" not in items:
        items.append("总评价")
    return items


def _problem_text(items, record, response) -> str:
    lines = [f"满意度评价为“差”：{'、'.join(items)}。"]
    texts = []
    if response is not None:
        for answer in response.answers.filter(rating="").select_related("question"):
            value = answer.value
            if isinstance(value, str) and value.strip():
                texts.append(f"{answer.question.text}：{value.strip()}")
    if record is not None and record.opinions.strip():
        texts.append(f"患者意见：{record.opinions.strip()}")
    return "\n".join(lines + texts)


def open_disposal_form(task, *, by=None, record=None, response=None, at=None):
    """C1: any 差 (a dimension or the overall rating) of a follow-up creates the disposal form
    for the visit's department — exactly one per follow-up task. Returns the form, or None when
    nothing was rated 差."""
    if record is None:
        record = getattr(task, "record", None)
    if response is None:
        response = task.survey_responses.order_by("-pk").first()
    items = poor_items(record, response)
    if not items:
        return None
    existing = DisposalForm.objects.filter(task_id=task.pk).first()
    if existing is not None:
        return existing
    at = at or timezone.now()
    form = DisposalForm(
        task=task, visit_id=task.visit_id, patient_id=task.patient_id,
        department_id=task.department_id,
        followed_up_at=getattr(record, "at", None) or getattr(response, "submitted_at", None) or at,
        followed_up_by=getattr(record, "by", None) or by, poor_items=items,
        problem=_problem_text(items, record, response), created_at=at,
    )  # fmt: skip
    start_clock(form, DeadlineSubject.DISPOSAL_DEPARTMENT, at)
    try:
        with transaction.atomic():
            form.save()
    except IntegrityError:
        return DisposalForm.objects.get(task_id=task.pk)
    _tell(_department_heads(form.department_id), title="回访评价为“差”，请填写处置反馈表",
          body=f"{form.problem[:80]} · 期限 {_fmt(form.due_at)}", url=disposal_url(form),
          kind="disposal", key=f"disposal:{form.pk}:new")  # fmt: skip
    return form


def disposal_url(form) -> str:
    return f"/cases/disposal/{form.pk}/"


def can_sign_department(form: DisposalForm, user) -> bool:
    return (
        user.has_perm("cases.sign_department")
        and user.has_role(Role.DEPT_HEAD, Role.HEAD_NURSE)
        and form.department_id in user.department_ids
    )


def sign_disposal_department(form, *, by, measures: str, plan: str, opinion: str, at=None):
    """C1 step 1: the department head or head nurse of the form's department writes measures,
    rectification plan and opinion, and signs."""
    values = {"measures": measures, "plan": plan, "dept_opinion": opinion}
    values = {k: (v or "").strip() for k, v in values.items()}
    at = at or timezone.now()
    with transaction.atomic():
        form = DisposalForm.objects.select_for_update().get(pk=form.pk)
        if not can_sign_department(form, by):
            raise CaseError(f"只有{form.department}的科主任或护士长可以在科室栏签字")
        if form.status != DisposalStatus.DEPARTMENT:
            raise CaseError("科室已签字，不能重复签字")
        missing = [label for key, label in (("measures", "处理措施"), ("plan", "整改计划"),
                   ("dept_opinion", "科主任意见")) if not values[key]]  # fmt: skip
        if missing:
            raise CaseError(f"请填写：{'、'.join(missing)}")
        for key, value in values.items():
            setattr(form, key, value)
        form.dept_signed_by, form.dept_signed_at = by, at
        form.status = DisposalStatus.MEDICAL_AFFAIRS
        start_clock(form, DeadlineSubject.DISPOSAL_MEDICAL, at)
        form.save()
        _audit(form, by, "科室签字")
        _tell(people(Role.MEDICAL_AFFAIRS), title=f"处置反馈表待医务科审核：{form.department}",
              body=f"期限 {_fmt(form.due_at)}", url=disposal_url(form), kind="disposal",
              key=f"disposal:{form.pk}:ma:{_stamp(at)}")  # fmt: skip
    return form


def sign_disposal_medical(form, *, by, opinion: str, at=None):
    """C1 step 2: medical affairs writes its opinion and signs — only after the department; then
    the form is closed."""
    opinion = (opinion or "").strip()
    at = at or timezone.now()
    with transaction.atomic():
        form = DisposalForm.objects.select_for_update().get(pk=form.pk)
        if not (by.has_perm("cases.sign_medical") and by.has_role(Role.MEDICAL_AFFAIRS)):
            raise CaseError("只有医务科可以在医务科栏签字")
        if form.status == DisposalStatus.DEPARTMENT:
            raise CaseError("科主任（护士长）尚未签字，医务科不能先签")
        if form.status == DisposalStatus.CLOSED:
            raise CaseError("处置反馈表已关闭")
        if not opinion:
            raise CaseError("请填写医务科意见")
        form.ma_opinion, form.ma_signed_by, form.ma_signed_at = opinion, by, at
        form.status = DisposalStatus.CLOSED
        form.save()
        _audit(form, by, "医务科签字，关闭")
    return form


def return_disposal(form, *, by, reason: str, at=None):
    """Medical affairs sends the department's measures back (not enough); the department signs
    again on a new deadline."""
    reason = (reason or "").strip()
    at = at or timezone.now()
    with transaction.atomic():
        form = DisposalForm.objects.select_for_update().get(pk=form.pk)
        if not (by.has_perm("cases.sign_medical") and by.has_role(Role.MEDICAL_AFFAIRS)):
            raise CaseError("只有医务科可以退回处置反馈表")
        if form.status != DisposalStatus.MEDICAL_AFFAIRS:
            raise CaseError("只有待医务科审核的表可以退回")
        if not reason:
            raise CaseError("请填写退回原因")
        form.status = DisposalStatus.DEPARTMENT
        form.dept_signed_by = form.dept_signed_at = None
        form.ma_opinion = f"退回（{timezone.localtime(at):%Y-%m-%d}）：{reason}"
        start_clock(form, DeadlineSubject.DISPOSAL_DEPARTMENT, at)
        form.save()
        _audit(form, by, f"退回科室：{reason}")
        _tell(_department_heads(form.department_id), title="处置反馈表被医务科退回",
              body=reason, url=disposal_url(form), kind="disposal",
              key=f"disposal:{form.pk}:return:{_stamp(at)}")  # fmt: skip
    return form

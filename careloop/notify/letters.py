"""Letters and home-visit sheets as print-ready PDF (F5 channels letter and home visit).

HTML templates rendered by WeasyPrint with the Noto Sans CJK SC font (Debian fonts-noto-cjk).
Printing needs the patient's address in clear: every address put on paper is a reveal of
masked data and is audited (S2), one event per patient.
"""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from careloop.audit.choices import Action
from careloop.audit.services import record_event
from careloop.notify.defaults import DEFAULT_LETTER_TEMPLATE
from careloop.notify.models import LetterTemplate
from careloop.notify.services import NotifyError, render_text, sms_context_for_task


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def reveal_address(task, *, request=None, by=None, purpose: str, what: str = "家庭住址") -> str:
    """The patient's address in clear, with the audit event that says who saw it and why."""
    patient = task.patient
    record_event(
        Action.REVEAL,
        request=request,
        actor=by,
        obj=patient,
        message=f"{purpose}：{what}（回访任务 {task.pk}）",
    )
    return patient.address or ""


def letter_template() -> LetterTemplate:
    template = (
        LetterTemplate.objects.filter(code=DEFAULT_LETTER_TEMPLATE, is_active=True).first()
        or LetterTemplate.objects.filter(is_active=True).order_by("code").first()
    )
    if template is None:
        raise NotifyError("没有启用的信函模板，请先在“信函模板”中启用一个")
    return template


def letters_pdf(tasks, *, request=None, by=None, template: LetterTemplate | None = None) -> bytes:
    """Mail merge: one letter per page, each with the address block of its patient."""
    template = template or letter_template()
    today = timezone.localdate()
    letters = []
    for task in tasks:
        context = sms_context_for_task(task)
        letters.append(
            {
                "task": task,
                "patient": task.patient,
                "address": reveal_address(task, request=request, by=by, purpose="打印回访信函"),
                "paragraphs": [
                    p.strip() for p in render_text(template.body, context).split("\n") if p.strip()
                ],
            }
        )
    html = render_to_string(
        "notify/pdf/letters.html",
        {
            "letters": letters,
            "hospital_name": settings.HOSPITAL_NAME,
            "today": f"{today.year}年{today.month}月{today.day}日",
        },
    )
    return html_to_pdf(html)


def visit_sheet_pdf(task, *, request=None, by=None) -> bytes:
    """The home-visit sheet (上门回访登记表, F9) with blanks to fill in on paper."""
    patient = task.patient
    visit = task.visit
    principal = visit.principal_diagnosis
    html = render_to_string(
        "notify/pdf/visit_sheet.html",
        {
            "task": task,
            "patient": patient,
            "visit": visit,
            "age": patient.age(),
            "diagnosis": principal,
            "address": reveal_address(
                task, request=request, by=by, purpose="打印上门回访单", what="家庭住址、电话"
            ),
            "phones": [p.number for p in patient.phones.all()],
            "hospital_name": settings.HOSPITAL_NAME,
            "blanks": ["目前病情", "用药情况", "康复情况", "意见建议"],
        },
    )
    return html_to_pdf(html)

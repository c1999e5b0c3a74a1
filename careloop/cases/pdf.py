"""C1: the disposal form printed as the paper form (病人回访处置反馈表, seed 003) — "本表一式两份
（交医务科一份，科室留档一份）": two copies in one PDF, each on its own page.

The paper carries the patient's address in clear, so every print is an audited reveal (S2), one
event per print, through ``notify.letters.reveal_address`` like the letters and visit sheets.
"""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from careloop.notify.letters import html_to_pdf, reveal_address

# Seed 003: one copy stays with the department, one goes to medical affairs.
COPIES = ("科室留档", "交医务科")


def _signature(user, at) -> dict:
    return {
        "name": user.display_name if user else "",
        "date": f"{timezone.localtime(at):%Y-%m-%d}" if at else "",
    }


def attending_doctor(visit) -> str:
    doctor = visit.attending_doctor
    return doctor.display_name if doctor else (visit.attending_doctor_name or "")


def disposal_context(form) -> dict:
    """What the paper shows, without the address (the screen masks it, the paper reveals it)."""
    patient, visit = form.patient, form.visit
    followed = timezone.localtime(form.followed_up_at)
    return {
        "form": form,
        "patient": patient,
        "visit": visit,
        # The age on the paper is the age at the follow-up, not at printing.
        "age": patient.age(followed.date()),
        "doctor": attending_doctor(visit),
        "followed_up_at": followed,
        "dept_signature": _signature(form.dept_signed_by, form.dept_signed_at),
        "ma_signature": _signature(form.ma_signed_by, form.ma_signed_at),
        "hospital_name": settings.HOSPITAL_NAME,
    }


def disposal_pdf(form, *, request=None, by=None) -> bytes:
    """The two copies of the paper form, A4, Noto Sans CJK SC."""
    user = by or getattr(request, "user", None)
    if user is not None and user.has_perm("patients.reveal_patient"):
        address = reveal_address(
            form.task, request=request, by=by, purpose=f"打印回访处置反馈表（{form.pk}）"
        )
    else:
        # P3: whoever may not reveal patient data (e.g. the nursing department) prints the
        # form with the address masked, as the screen shows it.
        patient = form.patient
        address = patient._meta.get_field("address").masked(patient)
    context = disposal_context(form)
    context.update(address=address, copies=COPIES)
    return html_to_pdf(render_to_string("cases/pdf/disposal_form.html", context))

"""P5 state changes of patients and visits that arrive after the fact, as named services.

HL7 (A11, A13, A40, PID-30), the REST API and later the archive screens call these; none writes
the models directly. Each records a ``PatientEvent`` the follow-up planner acts on (cancel or
move the open tasks), and saves through the model so the audit trail sees the change (S2).
Callers hold the transaction (S4: all or nothing with the message or request).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Max
from django.utils import timezone

from careloop.patients.choices import Disposition, EventKind, Sex, VisitStatus
from careloop.patients.models import Patient, PatientEvent, Visit

# Flags that stop or restrict a follow-up (E1, E4, E5, E6): a merge keeps them if either has them.
FOLLOW_UP_FLAGS = ("is_deceased", "do_not_contact", "open_dispute", "privacy_sensitive")


def _event(**values) -> PatientEvent:
    """Record a P5 event and ask the follow-up planner to act on it once this commits."""
    event = PatientEvent.objects.create(**values)
    request_planning()
    return event


def request_planning() -> None:
    from django.db import transaction

    from careloop.jobs.scheduler import request_soon

    transaction.on_commit(lambda: request_soon("followup-plan"))


class PatientServiceError(Exception):
    """A request the data does not allow; the message is Chinese, for the sender (S5)."""


def cancel_admission(
    visit: Visit, *, source: str, occurred_at: dt.datetime | None = None
) -> PatientEvent | None:
    """P5 (A11): the admission or registration was cancelled: the visit stays, marked cancelled,
    and the planner cancels its tasks. A second cancel changes nothing."""
    if visit.status == VisitStatus.CANCELLED:
        return None
    visit.status = VisitStatus.CANCELLED
    visit.updated_at = timezone.now()
    visit.save(update_fields=["status", "updated_at"])
    return _event(
        patient_id=visit.patient_id,
        visit=visit,
        kind=EventKind.ADMIT_CANCELLED,
        occurred_at=occurred_at or timezone.now(),
        source=source,
        detail={"visit_no": visit.visit_no, "visit_type": visit.visit_type},
    )


def cancel_discharge(
    visit: Visit, *, source: str, occurred_at: dt.datetime | None = None
) -> PatientEvent | None:
    """P5 (A13): the discharge was cancelled, the patient is in hospital again: discharge time
    and disposition are cleared and the planner cancels the tasks of that discharge. When the
    cancelled discharge was a death (disposition 5) that had marked the patient deceased, the
    mark goes too — the patient is alive in the ward. A visit not discharged changes nothing."""
    if visit.discharged_at is None and not visit.disposition:
        return None
    detail = {
        "discharged_at": visit.discharged_at.isoformat() if visit.discharged_at else None,
        "disposition": visit.disposition,
    }
    if visit.disposition == Disposition.DEATH:
        death = PatientEvent.objects.filter(visit=visit, kind=EventKind.DEATH).exists()
        patient = visit.patient
        if death and patient.is_deceased:
            patient.is_deceased, patient.deceased_at = False, None
            patient.updated_at = timezone.now()
            patient.save(update_fields=["is_deceased", "deceased_at", "updated_at"])
            detail["deceased_cleared"] = True
    visit.discharged_at, visit.disposition = None, ""
    visit.updated_at = timezone.now()
    visit.save(update_fields=["discharged_at", "disposition", "updated_at"])
    return _event(
        patient_id=visit.patient_id,
        visit=visit,
        kind=EventKind.DISCHARGE_CANCELLED,
        occurred_at=occurred_at or timezone.now(),
        source=source,
        detail=detail,
    )


def record_death(
    patient: Patient,
    *,
    source: str,
    at: dt.datetime | None = None,
    visit: Visit | None = None,
) -> PatientEvent | None:
    """P5 / E4: a death reported after the visit (HL7 PID-30 "Y", a later notice): the patient
    is marked deceased and the planner cancels every open task. Already deceased: nothing."""
    if patient.is_deceased:
        return None
    patient.is_deceased = True
    patient.deceased_at = at or timezone.now()
    patient.updated_at = timezone.now()
    patient.save(update_fields=["is_deceased", "deceased_at", "updated_at"])
    return _event(
        patient=patient,
        visit=visit,
        kind=EventKind.DEATH,
        occurred_at=patient.deceased_at,
        source=source,
        detail={"notice": True},
    )


def record_refusal(
    patient: Patient, *, source: str, by=None, reason: str = "", at: dt.datetime | None = None
) -> PatientEvent | None:
    """E6: the patient refuses follow-up (拒绝回访 on a call, an SMS reply "TD"): marked
    do-not-contact, and the planner excludes every open task of the patient with E6.
    Already refusing: nothing."""
    if patient.do_not_contact:
        return None
    patient.do_not_contact = True
    patient.updated_at = timezone.now()
    patient.save(update_fields=["do_not_contact", "updated_at"])
    return _event(
        patient=patient,
        kind=EventKind.REFUSED,
        occurred_at=at or timezone.now(),
        source=source,
        detail={"reason": reason, "by": by.pk if by is not None else None},
    )


def merge_patients(
    prior: Patient, survivor: Patient, *, source: str, occurred_at: dt.datetime | None = None
) -> PatientEvent | None:
    """P5 (A40): ``prior`` is a duplicate record of ``survivor``. Its visits, phones (those the
    survivor lacks) and events move to the survivor; the prior record stays, pointing at the
    survivor (``merged_into``), so its old id still finds the person. Flags that stop a
    follow-up (deceased, refused, open dispute, privacy-sensitive) carry over — either record
    knowing it is enough — and the survivor's blanks are filled from the prior. Merging again
    changes nothing."""
    if prior.pk == survivor.pk:
        raise PatientServiceError(f"不能把患者 {prior.patient_no} 合并到自身")
    # Lock both rows in one order so two merges of the same pair cannot deadlock.
    locked = {
        p.pk: p
        for p in Patient.objects.select_for_update().filter(pk__in=[prior.pk, survivor.pk])
        .order_by("pk")
    }  # fmt: skip
    prior, survivor = locked[prior.pk], locked[survivor.pk]
    if prior.merged_into_id == survivor.pk:
        return None
    if survivor.merged_into_id:
        raise PatientServiceError(f"存活患者 {survivor.patient_no} 已被合并到其他患者")
    if prior.merged_into_id:
        raise PatientServiceError(f"患者 {prior.patient_no} 已被合并到其他患者")
    now = timezone.now()

    visits = Visit.objects.filter(patient=prior).update(patient=survivor, updated_at=now)

    kept = {p.number_bidx for p in survivor.phones.all()}
    has_preferred = survivor.phones.filter(is_preferred=True).exists()
    position = (survivor.phones.aggregate(m=Max("position"))["m"] or 0) + 1
    moved = dropped = 0
    for phone in prior.phones.order_by("position"):
        if phone.number_bidx in kept:
            phone.delete()  # the survivor has this number already: no duplicate phones
            dropped += 1
            continue
        phone.patient = survivor
        phone.is_preferred = phone.is_preferred and not has_preferred
        has_preferred = has_preferred or phone.is_preferred
        phone.position = position
        position += 1
        phone.save(update_fields=["patient", "is_preferred", "position"])
        kept.add(phone.number_bidx)
        moved += 1

    events = PatientEvent.objects.filter(patient=prior).update(patient=survivor)
    Patient.objects.filter(merged_into=prior).update(merged_into=survivor, updated_at=now)

    changed = []
    for flag in FOLLOW_UP_FLAGS:
        if getattr(prior, flag) and not getattr(survivor, flag):
            setattr(survivor, flag, True)
            changed.append(flag)
    if prior.deceased_at and not survivor.deceased_at:
        survivor.deceased_at = prior.deceased_at
        changed.append("deceased_at")
    if prior.birth_date and not survivor.birth_date:
        survivor.birth_date = prior.birth_date
        survivor.birth_date_estimated = prior.birth_date_estimated
        changed += ["birth_date", "birth_date_estimated"]
    for name in ("id_number", "address"):
        if getattr(prior, name) and not getattr(survivor, name):
            setattr(survivor, name, getattr(prior, name))
            changed.append(name)
    if "id_number" in changed:
        changed.append("id_number_bidx")
    if survivor.sex in (Sex.UNKNOWN, Sex.UNSPECIFIED) and prior.sex in (Sex.MALE, Sex.FEMALE):
        survivor.sex = prior.sex
        changed.append("sex")
    survivor.updated_at = now
    survivor.save(update_fields=[*changed, "updated_at"])
    prior.merged_into = survivor
    prior.updated_at = now
    prior.save(update_fields=["merged_into", "updated_at"])

    return _event(
        patient=survivor,
        kind=EventKind.MERGED,
        occurred_at=occurred_at or now,
        source=source,
        detail={
            "prior_patient_no": prior.patient_no,
            "prior_id": prior.pk,
            "visits_moved": visits,
            "phones_moved": moved,
            "phones_dropped": dropped,
            "events_moved": events,
            "flags_taken": [f for f in changed if f in FOLLOW_UP_FLAGS],
        },
    )

import datetime as dt

import pytest

TZ = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def clinic(org):
    """The outpatient departments F1 tells apart, beside the conftest wards."""
    from careloop.org.choices import DepartmentKind
    from careloop.org.models import Department

    org["specialist"] = Department.objects.create(
        code="XNKMZ", name="心内科专科门诊", kind=DepartmentKind.SPECIALIST
    )
    org["basic"] = Department.objects.create(
        code="NKMZ", name="内科基础门诊", kind=DepartmentKind.BASIC
    )
    return org


@pytest.fixture
def presets(db):
    from careloop.followup.models import Policy
    from careloop.followup.presets import ensure_presets

    ensure_presets()
    return {p.slug: p for p in Policy.objects.all()}


@pytest.fixture
def activate(presets):
    from careloop.followup.services import activate_policy

    def on(*slugs):
        for slug in slugs:
            activate_policy(presets[slug])

    return on


@pytest.fixture
def make_visit(db):
    """A patient with a phone and one visit, written through the ORM (intake is tested apart)."""
    from careloop.patients.models import Diagnosis, Patient, PatientPhone, Visit

    counter = {"n": 0}

    def make(
        department,
        *,
        discharged=None,
        seen=None,
        visit_type=None,
        patient=None,
        phone=True,
        diagnoses=(),
        stay_hours=120,
        nurse=None,
        doctor=None,
        patient_flags=None,
        **visit_fields,
    ):
        counter["n"] += 1
        n = counter["n"]
        if patient is None:
            patient = Patient.objects.create(
                patient_no=f"T{n:05d}", name=f"患者{n}", sex="1", **(patient_flags or {})
            )
            if phone:
                PatientPhone.objects.create(
                    patient=patient, number=f"1380000{n:04d}", is_preferred=True
                )
        values = {"visit_type": visit_type or ("inpatient" if discharged else "outpatient")}
        if discharged:
            out = dt.datetime.fromisoformat(discharged).replace(tzinfo=TZ)
            values.update(discharged_at=out, admitted_at=out - dt.timedelta(hours=stay_hours))
        if seen:
            values["visit_at"] = dt.datetime.fromisoformat(seen).replace(tzinfo=TZ)
        visit = Visit.objects.create(
            patient=patient,
            visit_no=f"V{n:05d}",
            department=department,
            responsible_nurse=nurse,
            attending_doctor=doctor,
            **values,
            **visit_fields,
        )
        for i, code in enumerate(diagnoses):
            Diagnosis.objects.create(visit=visit, position=i, code=code, is_principal=(i == 0))
        return visit

    return make


def task_table():
    """Every task row, every column but the update time, in id order: "identical tables"."""
    from careloop.followup.models import FollowUpTask

    names = [f.attname for f in FollowUpTask._meta.concrete_fields if f.name != "updated_at"]
    return list(FollowUpTask.objects.order_by("pk").values_list(*names))

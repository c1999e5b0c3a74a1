"""Workspace fixtures: one phone policy (call hours 10–12, 15–17), agents, a nurse, a doctor and
tasks built with the ORM (the planner is tested apart)."""

from __future__ import annotations

import datetime as dt

import pytest

from careloop.accounts.roles import Role
from careloop.followup.tests.uihelpers import make_policy, make_stage, make_task, make_visit
from careloop.patients.models import PatientPhone

TZ = dt.timezone(dt.timedelta(hours=8))
# A Wednesday, a working day: 10:30 is inside the call hours (F6), 09:00 and 13:00 are not.
IN_HOURS = dt.datetime(2026, 4, 1, 10, 30, tzinfo=TZ)
OUT_OF_HOURS = dt.datetime(2026, 4, 1, 13, 0, tzinfo=TZ)
TODAY = dt.date(2026, 4, 1)


@pytest.fixture
def people(personas, org, make_user):
    from django.contrib.auth.models import Permission

    doctor = make_user("doctor.xnk", Role.DOCTOR, departments=[org["cardio"]], full_name="王医生")
    agent2 = make_user("agent2", Role.AGENT, departments=[org["service"]], full_name="回访员二")
    supervisor = make_user("supervisor", Role.SUPERVISOR, departments=[org["service"]])
    agent = personas["agent"]
    # F11 and the scripts page: the permissions the lead adds to roles.py (see the report).
    for codename in ("add_escalation", "view_escalation", "view_callscript"):
        agent.user_permissions.add(Permission.objects.get(codename=codename))
    for codename in ("change_callscript", "add_callscript", "view_callscript"):
        supervisor.user_permissions.add(Permission.objects.get(codename=codename))
    from careloop.accounts.models import User

    return {
        **personas,
        "agent": User.objects.get(pk=agent.pk),
        "agent2": agent2,
        "doctor": doctor,
        "supervisor": User.objects.get(pk=supervisor.pk),
    }


@pytest.fixture
def stage(db):
    from careloop.followup.presets import ensure_scripts

    ensure_scripts()
    policy = make_policy(is_active=True)
    return make_stage(policy, questionnaire="inpatient", script="inpatient")


@pytest.fixture
def nurse_stage(stage):
    return make_stage(
        stage.policy, code="nurse", name="责任护士回访", assignee_role="responsible_nurse"
    )


class Builder:
    def __init__(self, org, stage):
        self.org, self.stage, self.n = org, stage, 0

    def task(self, *, dept="cardio", stage=None, name=None, phone=True, sex="1", doctor=None,
             nurse=None, patient=None, **extra):  # fmt: skip
        self.n += 1
        n = self.n
        visit = make_visit(
            self.org[dept], patient_no=patient.patient_no if patient else f"W{n:04d}",
            name=name or f"患者{n}", visit_no=f"ZY{n:04d}", attending_doctor=doctor,
            responsible_nurse=nurse,
        )  # fmt: skip
        if patient is None:
            visit.patient.sex = sex
            visit.patient.save(update_fields=["sex"])
            if phone:
                PatientPhone.objects.create(
                    patient=visit.patient, number=f"1390000{n:04d}", is_preferred=True
                )
        return make_task(stage or self.stage, visit, **extra)


@pytest.fixture
def build(org, stage):
    return Builder(org, stage)


@pytest.fixture
def surveys_ready(db):
    from careloop.surveys.presets import ensure_presets

    ensure_presets()

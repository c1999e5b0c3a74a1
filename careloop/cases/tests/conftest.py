"""Fixtures for the loop (SPEC §5 C1–C4, F11): the personas whose rights differ, the preset
deadline rules, and follow-up tasks of a cardiology visit — one completed with a 差.

The base personas (cardio/ortho nurse, agent, cardiology head, medical affairs, leader, auditor,
the admins) come from the project conftest; ``people`` adds those the loop needs: the service
supervisor, a cardiology head nurse, the orthopaedics head, and a doctor in each ward."""

from __future__ import annotations

import datetime as dt

import pytest

from careloop.accounts.roles import Role

TZ = dt.timezone(dt.timedelta(hours=8))


def at(text: str) -> dt.datetime:
    """'2026-09-29 10:00' in hospital time (UTC+8)."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.fixture
def people(personas, org, make_user):
    return {
        **personas,
        "supervisor": make_user(
            "supervisor", Role.SUPERVISOR, departments=[org["service"]], full_name="客服主管"
        ),
        "head_nurse": make_user(
            "headnurse.xnk", Role.HEAD_NURSE, departments=[org["cardio"]], full_name="心内护士长"
        ),
        "ortho_head": make_user(
            "head.gk", Role.DEPT_HEAD, departments=[org["ortho"]], full_name="骨科主任"
        ),
        "doctor": make_user(
            "doctor.xnk", Role.DOCTOR, departments=[org["cardio"]], full_name="王医生"
        ),
        "ortho_doctor": make_user(
            "doctor.gk", Role.DOCTOR, departments=[org["ortho"]], full_name="李医生"
        ),
    }


@pytest.fixture
def rules(db):
    """The C3 preset rules (post_migrate creates them; ensured again for flushed databases),
    keyed by (subject, kind, severity)."""
    from careloop.cases.models import DeadlineRule
    from careloop.cases.presets import ensure_case_presets

    ensure_case_presets()
    return {(r.subject, r.kind, r.severity): r for r in DeadlineRule.objects.all()}


@pytest.fixture
def surveys_ready(db):
    from careloop.surveys.presets import ensure_presets

    ensure_presets()


@pytest.fixture
def stage(db):
    from careloop.followup.tests.uihelpers import make_policy, make_stage

    return make_stage(make_policy(is_active=True), questionnaire="inpatient")


class Builder:
    """Visits and tasks through the ORM (the planner and intake are tested apart)."""

    def __init__(self, org, stage):
        self.org, self.stage, self.n = org, stage, 0

    def visit(self, dept="cardio", *, doctor=None):
        from careloop.followup.tests.uihelpers import make_visit
        from careloop.patients.models import PatientPhone

        self.n += 1
        n = self.n
        visit = make_visit(
            self.org[dept], patient_no=f"C{n:04d}", name=f"患者{n}", visit_no=f"ZY{n:04d}",
            attending_doctor=doctor,
        )  # fmt: skip
        PatientPhone.objects.create(
            patient=visit.patient, number=f"1390000{n:04d}", is_preferred=True
        )
        return visit

    def task(self, dept="cardio", *, doctor=None, visit=None, **extra):
        from careloop.followup.tests.uihelpers import make_task

        return make_task(self.stage, visit or self.visit(dept, doctor=doctor), **extra)


@pytest.fixture
def build(org, stage):
    return Builder(org, stage)


ANSWERS = {"attitude": "good", "guidance": "good", "skill": "very_good", "ethics": "good",
           "overall": "good"}  # fmt: skip


def complete_call(task, agent, *, record_overall="", opinions="", **ratings):
    """Claim ``task``, save the questionnaire (``ratings`` override the all-good answers) and
    the record, as the call screen does; the record's 总评价 is the questionnaire's unless
    ``record_overall`` is given. Returns (record, response)."""
    from careloop.followup.calls import claim_task, complete_followup
    from careloop.surveys.forms import ResponseForm
    from careloop.surveys.services import current_version, ratings_of

    claim_task(task, by=agent)
    data = {f"q-{code}": value for code, value in {**ANSWERS, **ratings}.items()}
    if data["q-overall"] == "poor":
        data["q-overall_reason"] = "等候时间太长"
    form = ResponseForm(current_version("inpatient"), data=data)
    assert form.is_valid(), form.errors
    response = form.save(task=task, by=agent, channel="phone")
    record = complete_followup(
        task,
        by=agent,
        record={
            "condition": "恢复良好",
            "opinions": opinions,
            "overall": record_overall or ratings_of(response).get("overall", ""),
        },
    )
    return record, response


@pytest.fixture
def poor_task(build, people, surveys_ready):
    """A cardiology visit (doctor 王医生) whose follow-up the agent completed with 服务态度 差
    and 总评价 差; no disposal form yet (the services under test open it)."""
    task = build.task(doctor=people["doctor"])
    complete_call(task, people["agent"], attitude="poor", overall="poor", opinions="护士态度生硬")
    return task

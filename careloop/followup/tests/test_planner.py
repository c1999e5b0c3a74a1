"""The planner against the database: idempotence, P5 events, E7 lifting, F12 assignment and the
repeat stages (F3, F4). Dates are on the 2026 calendar (see test_planning.py)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from careloop.accounts.roles import Role
from careloop.followup.choices import TaskEventKind, TaskStatus
from careloop.followup.models import FollowUpTask, TaskEvent
from careloop.followup.planner import plan
from careloop.followup.services import ServiceError, complete_task, lift_exclusion
from careloop.followup.tests.conftest import TZ, task_table
from careloop.patients import services as patient_services
from careloop.patients.choices import Source
from careloop.patients.models import VisitChange

D = dt.date.fromisoformat
AS_OF = D("2026-10-12")


def tasks_of(visit, slug=None):
    qs = FollowUpTask.objects.filter(visit=visit).select_related("stage", "policy")
    if slug:
        qs = qs.filter(policy__slug=slug)
    return list(qs.order_by("policy__slug", "stage__position", "sequence"))


def test_plan_creates_the_windows_of_both_policies_F1_F2(org, clinic, activate, make_visit):
    activate("kf-phone", "discharge-nurse")
    ward = make_visit(org["cardio"], discharged="2026-10-03T10:00")
    seen = make_visit(clinic["specialist"], seen="2026-10-10T09:00", first_visit=True)
    summary = plan(as_of=AS_OF)
    assert summary["created"] == 3
    got = [
        (t.policy.slug, t.stage.code, t.window_start, t.window_end, t.status, t.channel)
        for t in tasks_of(ward) + tasks_of(seen)
    ]
    assert got == [
        # F2: 10-03 + 15 = 10-18 Sunday → Monday 10-19; + 30 = 11-02 Monday.
        ("discharge-nurse", "phone", D("2026-10-19"), D("2026-11-02"), "planned", "phone"),
        # F1: day 7 is the working Saturday 10-10, open on AS_OF → due.
        ("kf-phone", "inpatient", D("2026-10-10"), D("2026-10-16"), "due", "phone"),
        ("kf-phone", "specialist-first", D("2026-10-19"), D("2026-10-23"), "planned", "phone"),
    ]


def test_plan_twice_changes_nothing(org, clinic, activate, make_visit):
    activate("kf-phone", "discharge-nurse")
    for day in range(1, 25):
        make_visit(org["cardio"], discharged=f"2026-09-{day:02d}T10:00", special=day % 5 == 0)
        make_visit(clinic["basic"], seen=f"2026-09-{day:02d}T15:00", first_visit=day % 2 == 0)
    make_visit(org["ortho"], discharged="2026-09-10T10:00", patient_flags={"open_dispute": True})
    first = plan(as_of=AS_OF)
    assert first["created"] == 24 * 2 + 12 + 2
    before = task_table()
    again = plan(as_of=AS_OF)
    assert (again["created"], again["updated"], again["full"]) == (0, 0, False)
    full = plan(as_of=AS_OF, full=True)
    assert (full["created"], full["updated"], full["visits"]) == (0, 0, 49)
    assert task_table() == before


def test_incremental_plan_picks_up_what_intake_marked(org, activate, make_visit):
    activate("kf-phone")
    plan(as_of=AS_OF)
    visit = make_visit(org["cardio"], discharged="2026-10-03T10:00")
    assert plan(as_of=AS_OF)["created"] == 0  # nobody marked it: the incremental run skips it
    VisitChange.objects.create(visit=visit)
    summary = plan(as_of=AS_OF)
    assert (summary["created"], summary["full"], summary["visits"]) == (1, False, 1)
    assert not VisitChange.objects.exists()


def test_exclusions_are_recorded_and_kept_E7(org, activate, make_visit):
    activate("kf-phone")
    short = make_visit(org["cardio"], discharged="2026-10-03T10:00", stay_hours=23.5)
    day = make_visit(org["cardio"], discharged="2026-10-03T10:00", stay_hours=24)
    hidden = make_visit(org["cardio"], discharged="2026-10-03T10:00", diagnoses=["I21.9", "B20"])
    nophone = make_visit(org["cardio"], discharged="2026-10-03T10:00", phone=False)
    plan(as_of=AS_OF)
    assert [(t.status, t.exclusion) for t in tasks_of(short)] == [("excluded", "E3")]
    assert [(t.status, t.exclusion) for t in tasks_of(day)] == [("due", "")]
    assert [(t.status, t.exclusion) for t in tasks_of(hidden)] == [("excluded", "E5")]
    assert [(t.status, t.exclusion) for t in tasks_of(nophone)] == [("excluded", "E6")]


def test_lifting_an_exclusion_returns_the_task_E7(org, activate, make_visit, personas):
    activate("kf-phone")
    visit = make_visit(
        org["cardio"], discharged="2026-10-03T10:00", patient_flags={"open_dispute": True}
    )
    plan(as_of=AS_OF)
    (task,) = tasks_of(visit)
    assert (task.status, task.exclusion) == ("excluded", "E1")
    with pytest.raises(ServiceError, match="说明"):
        lift_exclusion(task, by=personas["medical_affairs"], note="  ")
    task.refresh_from_db()
    assert task.status == "excluded"
    with time_machine.travel(dt.datetime(2026, 10, 12, 9, tzinfo=TZ)):
        lift_exclusion(task, by=personas["medical_affairs"], note="纠纷已于 10 月 11 日调解结案")
        # The dispute flag is still set in HIS data: the planner must not exclude it again.
        plan(as_of=AS_OF)
    task.refresh_from_db()
    assert (task.status, task.exclusion, task.lifted) == ("due", "", "E1")
    event = task.events.get(kind=TaskEventKind.LIFTED)
    assert (event.by, event.note) == (personas["medical_affairs"], "纠纷已于 10 月 11 日调解结案")
    with pytest.raises(ServiceError):
        lift_exclusion(task, by=personas["medical_affairs"], note="again")


def test_lifting_one_exclusion_leaves_the_next_E7(org, activate, make_visit, personas):
    activate("kf-phone")
    visit = make_visit(
        org["cardio"], discharged="2026-10-03T10:00",
        patient_flags={"open_dispute": True, "do_not_contact": True},
    )  # fmt: skip
    plan(as_of=AS_OF)
    (task,) = tasks_of(visit)
    lift_exclusion(task, by=personas["medical_affairs"], note="纠纷已结案")
    plan(as_of=AS_OF)
    task.refresh_from_db()
    assert (task.status, task.exclusion, task.lifted) == ("excluded", "E6", "E1")


# -- P5 ------------------------------------------------------------------------------------


def test_death_excludes_every_open_task_of_the_patient_P5_E4(org, activate, make_visit):
    activate("kf-phone", "discharge-nurse")
    first = make_visit(org["cardio"], discharged="2026-10-03T10:00")
    second = make_visit(org["ortho"], discharged="2026-10-08T10:00", patient=first.patient)
    other = make_visit(org["ortho"], discharged="2026-10-08T10:00")
    plan(as_of=AS_OF)
    done = tasks_of(first, "kf-phone")[0]
    FollowUpTask.objects.filter(pk=done.pk).update(status=TaskStatus.COMPLETED)
    patient_services.record_death(first.patient, source=Source.HL7)
    summary = plan(as_of=AS_OF)
    assert summary["events"] == 1
    statuses = [(t.stage.code, t.status, t.exclusion) for t in tasks_of(first) + tasks_of(second)]
    assert statuses == [
        ("phone", "excluded", "E4"),
        ("inpatient", "completed", ""),  # finished work is history, untouched
        ("phone", "excluded", "E4"),
        ("inpatient", "excluded", "E4"),
    ]
    assert {(t.status, t.exclusion) for t in tasks_of(other)} == {("planned", "")}
    assert TaskEvent.objects.filter(kind=TaskEventKind.EXCLUDED, note__contains="死亡").count() == 3


def test_cancelled_discharge_cancels_that_visits_tasks_P5_A13(org, activate, make_visit):
    activate("kf-phone", "discharge-nurse")
    visit = make_visit(org["cardio"], discharged="2026-10-03T10:00")
    other = make_visit(org["cardio"], discharged="2026-10-03T10:00", patient=visit.patient)
    plan(as_of=AS_OF)
    patient_services.cancel_discharge(visit, source=Source.HL7)
    plan(as_of=AS_OF)
    assert [(t.status, t.cancel_reason) for t in tasks_of(visit)] == [
        ("cancelled", "出院已取消"),
        ("cancelled", "出院已取消"),
    ]
    assert {t.status for t in tasks_of(other)} == {"due", "planned"}
    # Discharged again a week later: the same tasks come back with new windows, no duplicates.
    visit.refresh_from_db()
    visit.discharged_at = dt.datetime(2026, 10, 9, 10, tzinfo=TZ)
    visit.save()
    VisitChange.objects.create(visit=visit)
    plan(as_of=AS_OF)
    assert [(t.status, t.window_start) for t in tasks_of(visit)] == [
        ("planned", D("2026-10-26")),
        ("planned", D("2026-10-16")),
    ]


def test_cancelled_admission_cancels_its_tasks_P5_A11(org, activate, make_visit):
    activate("kf-phone")
    visit = make_visit(org["cardio"], discharged="2026-10-03T10:00")
    plan(as_of=AS_OF)
    patient_services.cancel_admission(visit, source=Source.HL7)
    plan(as_of=AS_OF)
    assert [(t.status, t.cancel_reason) for t in tasks_of(visit)] == [("cancelled", "就诊已取消")]


def test_changed_discharge_time_and_department_move_open_tasks_P5_A08(
    org, activate, make_visit, make_user
):
    from careloop.intake.rows import VisitRow
    from careloop.intake.upsert import Resolver, apply_rows

    cardio_nurse = make_user("n.xnk", Role.NURSE, departments=[org["cardio"]], staff_no="N1")
    ortho_nurse = make_user("n.gk", Role.NURSE, departments=[org["ortho"]], staff_no="N2")
    activate("discharge-nurse")
    row = VisitRow(
        patient_no="H1", name="王五", visit_type="inpatient", visit_no="ZY1", department="XNK",
        phones=["13800001111"], admitted_at=dt.datetime(2026, 9, 20, 8, tzinfo=TZ),
        discharged_at=dt.datetime(2026, 10, 3, 10, tzinfo=TZ), responsible_nurse="N1",
        present=frozenset({"name", "phone", "department", "admitted_at", "discharged_at",
                           "responsible_nurse"}),
    )  # fmt: skip
    apply_rows([(1, row)], Source.HL7, Resolver())
    plan(as_of=AS_OF)
    (task,) = FollowUpTask.objects.all()
    assert (task.window_start, task.department, task.assignee) == (
        D("2026-10-19"), org["cardio"], cardio_nurse,
    )  # fmt: skip
    # A08: discharge moved to 10-09 and the patient transferred to orthopaedics.
    from dataclasses import replace

    moved = replace(
        row, department="GK", responsible_nurse="N2",
        discharged_at=dt.datetime(2026, 10, 9, 10, tzinfo=TZ),
    )  # fmt: skip
    apply_rows([(1, moved)], Source.HL7, Resolver())
    summary = plan(as_of=AS_OF)
    assert summary["events"] == 2
    task.refresh_from_db()
    # 10-09 + 15 = 10-24 Saturday → Monday 10-26; + 30 = 11-08 Sunday → Friday 11-06.
    assert (task.window_start, task.window_end, task.department, task.assignee) == (
        D("2026-10-26"), D("2026-11-06"), org["ortho"], ortho_nurse,
    )  # fmt: skip
    assert FollowUpTask.objects.count() == 1
    assert task.events.filter(kind=TaskEventKind.MOVED).exists()


def test_merge_moves_tasks_to_the_survivor_without_duplicates_P5_A40(org, activate, make_visit):
    activate("kf-phone")
    prior_visit = make_visit(org["cardio"], discharged="2026-10-03T10:00")
    survivor_visit = make_visit(org["ortho"], discharged="2026-10-05T10:00")
    plan(as_of=AS_OF)
    patient_services.merge_patients(prior_visit.patient, survivor_visit.patient, source=Source.HL7)
    plan(as_of=AS_OF)
    plan(as_of=AS_OF, full=True)
    tasks = FollowUpTask.objects.order_by("visit_id")
    assert [t.patient_id for t in tasks] == [survivor_visit.patient_id] * 2
    assert tasks.count() == 2


# -- F12 -----------------------------------------------------------------------------------


@pytest.fixture
def duty(org, make_user):
    """Two agents and a roster for AS_OF; agent1 already carries three open tasks."""
    from careloop.org.models import RosterEntry, ShiftPattern

    shift = ShiftPattern.objects.create(code="BAI", name="白班", start=dt.time(8), end=dt.time(17))
    agents = [make_user(f"agent.{i}", Role.AGENT, departments=[org["service"]]) for i in (1, 2, 3)]
    for agent in agents:
        RosterEntry.objects.create(date=AS_OF, shift=shift, staff=agent, department=org["service"])
    return agents


def test_pool_tasks_are_balanced_by_open_workload_F12(org, activate, make_visit, duty):
    from careloop.org.models import Leave

    a1, _a2, a3 = duty
    Leave.objects.create(staff=a3, starts_on=AS_OF, ends_on=AS_OF, note="年假")
    activate("kf-phone")
    for _ in range(3):  # a1's earlier work, still open
        make_visit(org["cardio"], discharged="2026-10-02T10:00")
    plan(as_of=AS_OF)
    FollowUpTask.objects.update(assignee=a1, assigned_by_plan=False)
    for _ in range(7):
        make_visit(org["cardio"], discharged="2026-10-03T10:00")
    summary = plan(as_of=AS_OF, full=True)
    assert summary["assigned"] == 7
    load = {a.username: FollowUpTask.objects.filter(assignee=a).count() for a in duty}
    # 3 + 7 = 10 open tasks over the two agents on duty: 5 and 5; the one on leave gets none.
    assert load == {"agent.1": 5, "agent.2": 5, "agent.3": 0}


def test_named_tasks_follow_the_visit_and_leave_with_the_person_F12(
    org, activate, make_visit, make_user
):
    from careloop.org.models import Leave

    nurse = make_user("n1", Role.NURSE, departments=[org["cardio"]])
    head = make_user("hn", Role.HEAD_NURSE, departments=[org["cardio"]])
    activate("discharge-nurse")
    visit = make_visit(org["cardio"], discharged="2026-10-03T10:00", nurse=nurse)
    plan(as_of=AS_OF)
    (task,) = tasks_of(visit)
    assert task.assignee == nurse
    Leave.objects.create(staff=nurse, starts_on=D("2026-10-20"), ends_on=D("2026-10-30"))
    summary = plan(as_of=D("2026-10-20"))
    task.refresh_from_db()
    assert (task.assignee, summary["released"]) == (head, 1)
    assert task.events.filter(kind=TaskEventKind.REASSIGNED).count() == 1


def test_a_person_who_left_keeps_no_pool_task_F12(org, activate, make_visit, duty):
    a1, a2, _a3 = duty
    activate("kf-phone")
    make_visit(org["cardio"], discharged="2026-10-03T10:00")
    plan(as_of=AS_OF)
    task = FollowUpTask.objects.get()
    a1.is_active = False
    a1.save()
    FollowUpTask.objects.update(assignee=a1, status=TaskStatus.IN_PROGRESS)
    plan(as_of=AS_OF)
    task.refresh_from_db()
    assert task.status == TaskStatus.DUE
    assert task.assignee in (a2, duty[2])


# -- repeats (F3, F4) ------------------------------------------------------------------------


def test_F3_second_call_is_created_when_the_first_completes(org, activate, make_visit, personas):
    activate("doctor-7-90")
    visit = make_visit(org["cardio"], discharged="2026-08-02T10:00")
    plan(as_of=D("2026-08-03"))
    (first,) = tasks_of(visit)
    assert first.stage.code == "first"
    with time_machine.travel(dt.datetime(2026, 8, 5, 10, tzinfo=TZ)):
        (second,) = complete_task(first, by=personas["agent"])
    # F3 days 60–90 after discharge: 10-01 → 10-08; 10-31 Saturday → 10-30.
    assert (second.stage.code, second.window_start, second.window_end) == (
        "second", D("2026-10-08"), D("2026-10-30"),
    )  # fmt: skip
    plan(as_of=D("2026-08-05"))
    assert len(tasks_of(visit)) == 2


def test_F4_quarterly_until_recovered_then_greeting(org, activate, make_visit, personas):
    activate("two-level")
    visit = make_visit(org["cardio"], discharged="2026-05-20T10:00")
    plan(as_of=D("2026-05-21"))
    doctor = next(t for t in tasks_of(visit) if t.stage.code == "doctor")
    (month,) = complete_task(
        doctor, by=personas["agent"], at=dt.datetime(2026, 5, 25, 10, tzinfo=TZ)
    )
    # 05-25 + 30 = 06-24; + 36 = 06-30.
    assert (month.stage.code, month.window_start, month.window_end) == (
        "doctor-month", D("2026-06-24"), D("2026-06-30"),
    )  # fmt: skip
    (q1,) = complete_task(month, by=personas["agent"], at=dt.datetime(2026, 6, 22, 10, tzinfo=TZ))
    # 06-22 + 90 = 09-20, the working Sunday; + 96 = 09-26 (Mid-Autumn) → 09-24.
    assert (q1.stage.code, q1.sequence, q1.window_start, q1.window_end) == (
        "quarterly", 1, D("2026-09-20"), D("2026-09-24"),
    )  # fmt: skip
    (q2,) = complete_task(q1, by=personas["agent"], recovered=False,
                          at=dt.datetime(2026, 9, 21, 10, tzinfo=TZ))  # fmt: skip
    assert (q2.stage.code, q2.sequence) == ("quarterly", 2)
    created = complete_task(q2, by=personas["agent"], recovered=True,
                            at=dt.datetime(2026, 12, 21, 10, tzinfo=TZ))  # fmt: skip
    # Recovered: no third quarterly call; the greeting SMS half a year later.
    assert [(t.stage.code, t.channel, t.window_start) for t in created] == [
        ("greeting", "sms", D("2027-06-21")),
    ]

"""F7–F10 call services: claiming, attempts and their rules, the record, scripts."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from careloop.accounts.roles import Role
from careloop.followup.calls import (
    ClaimError,
    claim_task,
    complete_followup,
    in_call_hours,
    is_unreachable,
    record_attempt,
    release_task,
    render_script,
    script_for,
    unknown_placeholders,
)
from careloop.followup.choices import AttemptOutcome, TaskStatus
from careloop.followup.models import CallAttempt, FollowUpRecord, FollowUpTask
from careloop.followup.planner import plan
from careloop.followup.presets import ensure_scripts
from careloop.followup.services import ServiceError
from careloop.followup.tests.conftest import TZ

D = dt.date.fromisoformat


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.mark.parametrize(
    "days,attempts,expected",
    [
        (["2026-10-12", "2026-10-12", "2026-10-13"], 3, True),
        (["2026-10-12", "2026-10-12", "2026-10-12"], 3, False),  # three on one day: not yet
        (["2026-10-12", "2026-10-13"], 2, False),  # two attempts only
        (["2026-10-12", "2026-10-13", "2026-10-14", "2026-10-14"], 4, True),
    ],
)
def test_unreachable_rule_F8(days, attempts, expected):
    assert is_unreachable([D(d) for d in days], 3, 2) is expected
    assert len(days) == attempts


@pytest.mark.parametrize(
    "moment,workday,expected",
    [
        ("2026-10-12T09:59", True, False),
        ("2026-10-12T10:00", True, True),
        ("2026-10-12T11:59", True, True),
        ("2026-10-12T12:00", True, False),
        ("2026-10-12T15:30", True, True),
        ("2026-10-12T17:00", True, False),
        ("2026-10-11T10:30", False, False),  # no follow-up on days off (F6)
    ],
)
def test_call_hours_F6(moment, workday, expected):
    assert in_call_hours("10:00-12:00,15:00-17:00", at(moment), workday) is expected


@pytest.fixture
def due_task(org, activate, make_visit, make_user):
    agent = make_user("a1", Role.AGENT, departments=[org["service"]], full_name="林回访")
    other = make_user("a2", Role.AGENT, departments=[org["service"]], full_name="周回访")
    activate("kf-phone")
    visit = make_visit(org["cardio"], discharged="2026-10-03T10:00")
    make_visit(org["ortho"], discharged="2026-10-03T10:00", patient=visit.patient)
    plan(as_of=D("2026-10-12"))
    task = FollowUpTask.objects.get(visit=visit)
    assert task.status == TaskStatus.DUE and task.assignee is None
    return task, agent, other


def test_two_claims_one_winner_F7(due_task):
    task, agent, other = due_task
    claim_task(task, by=agent)
    with pytest.raises(ClaimError, match="林回访") as err:
        claim_task(task, by=other)
    assert err.value.holder == agent
    task.refresh_from_db()
    assert (task.status, task.assignee) == (TaskStatus.IN_PROGRESS, agent)
    assert claim_task(task, by=agent).pk == task.pk  # a second click of the holder is fine
    release_task(task, by=agent)
    task.refresh_from_db()
    assert (task.status, task.assignee) == (TaskStatus.DUE, agent)


def test_failed_attempts_make_unreachable_after_three_on_two_days_F8(due_task):
    task, agent, _other = due_task
    for moment in ("2026-10-12T10:05", "2026-10-12T15:10", "2026-10-12T16:40"):
        claim_task(task, by=agent)
        result = record_attempt(task, by=agent, outcome=AttemptOutcome.NO_ANSWER, at=at(moment))
        assert result.status == TaskStatus.DUE
    claim_task(task, by=agent)
    result = record_attempt(task, by=agent, outcome=AttemptOutcome.BUSY, at=at("2026-10-13T10:01"))
    assert result.status == TaskStatus.UNREACHABLE
    task.refresh_from_db()
    assert task.status == TaskStatus.UNREACHABLE
    assert task.attempts.count() == 4


def test_attempt_request_key_records_once(due_task):
    task, agent, _other = due_task
    claim_task(task, by=agent)
    record_attempt(task, by=agent, outcome=AttemptOutcome.NO_ANSWER, request_key="k1")
    record_attempt(task, by=agent, outcome=AttemptOutcome.NO_ANSWER, request_key="k1")
    assert CallAttempt.objects.count() == 1


def test_attempt_needs_the_claim(due_task):
    task, agent, other = due_task
    claim_task(task, by=agent)
    with pytest.raises(ServiceError):
        record_attempt(task, by=other, outcome=AttemptOutcome.NO_ANSWER)
    assert not CallAttempt.objects.exists()


def test_reschedule_moves_the_task_to_the_agreed_time_F8(due_task):
    task, agent, _other = due_task
    claim_task(task, by=agent)
    with pytest.raises(ServiceError, match="约定"):
        record_attempt(task, by=agent, outcome=AttemptOutcome.RESCHEDULE)
    with time_machine.travel(at("2026-10-12T10:00")):
        result = record_attempt(
            task, by=agent, outcome=AttemptOutcome.RESCHEDULE, agreed_at=at("2026-10-19T15:30")
        )
    task.refresh_from_db()
    assert result.status == TaskStatus.DUE
    # The window closed on 10-16; the agreed day 10-19 extends it.
    assert (task.next_attempt_at, task.window_end) == (at("2026-10-19T15:30"), D("2026-10-19"))


def test_deceased_excludes_every_open_task_of_the_patient_F8_E4(due_task):
    task, agent, _other = due_task
    claim_task(task, by=agent)
    result = record_attempt(task, by=agent, outcome=AttemptOutcome.DECEASED)
    assert result.status == TaskStatus.EXCLUDED
    tasks = FollowUpTask.objects.filter(patient=task.patient)
    assert [(t.status, t.exclusion) for t in tasks] == [("excluded", "E4")] * 2
    task.patient.refresh_from_db()
    assert task.patient.is_deceased
    plan(as_of=D("2026-10-12"))  # the planner agrees and changes nothing back
    assert {(t.status, t.exclusion) for t in tasks.all()} == {("excluded", "E4")}


def test_refusal_excludes_with_E6_F8(due_task):
    task, agent, _other = due_task
    claim_task(task, by=agent)
    record_attempt(task, by=agent, outcome=AttemptOutcome.REFUSED)
    task.patient.refresh_from_db()
    assert task.patient.do_not_contact
    plan(as_of=D("2026-10-12"))
    assert {(t.status, t.exclusion) for t in FollowUpTask.objects.filter(patient=task.patient)} == {
        ("excluded", "E6")
    }


def test_record_completes_once_and_schedules_again_F9(due_task):
    task, agent, _other = due_task
    claim_task(task, by=agent)
    record_attempt(task, by=agent, outcome=AttemptOutcome.REACHED_SELF)
    record = {
        "condition": "伤口愈合良好", "adherence": "regular", "education": ["diet", "recheck"],
        "opinions": "希望停车方便一些", "overall": "good", "next_follow_up": D("2026-10-24"),
    }  # fmt: skip
    with time_machine.travel(at("2026-10-12T10:20")):
        first = complete_followup(task, by=agent, record=record, request_key="r1")
        again = complete_followup(task, by=agent, record=record, request_key="r1")
    assert first.pk == again.pk and FollowUpRecord.objects.count() == 1
    task.refresh_from_db()
    assert (task.status, task.completed_at) == (TaskStatus.COMPLETED, at("2026-10-12T10:20"))
    follow = FollowUpTask.objects.get(stage=task.stage, visit=task.visit, sequence=2)
    # 10-24 is a Saturday (not an adjusted working day) → opens Monday 10-26; closes 10-30.
    assert (follow.window_start, follow.window_end, follow.assignee) == (
        D("2026-10-26"), D("2026-10-30"), agent,
    )  # fmt: skip


def test_script_is_filled_with_name_title_and_hospital_F10(due_task, settings):
    settings.HOSPITAL_NAME = "示范医院"
    task, agent, _other = due_task
    ensure_scripts()
    script = script_for(task)
    rendered = render_script(script, task, agent)
    keys = [s["key"] for s in rendered["steps"]]
    assert keys == ["greeting", "introduce", "small_talk", "recovery", "education", "survey",
                    "information", "thanks", "register"]  # fmt: skip
    name = task.patient.name
    assert rendered["steps"][0]["text"] == f"您好！请问是{name}先生吗？"
    assert "示范医院客服中心的回访员林回访" in rendered["steps"][1]["text"]
    assert "2026年10月03日从我院心血管内科病区出院" in rendered["steps"][1]["text"]
    assert rendered["dissatisfied_reply"].startswith("很抱歉")
    assert unknown_placeholders("您好{姓名}{职位}") == ["职位"]

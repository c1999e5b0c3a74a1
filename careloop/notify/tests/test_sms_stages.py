"""F5 channel SMS: due SMS stages send themselves, once per task; the task completes when sent."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from careloop.followup.choices import TaskStatus
from careloop.followup.tests.uihelpers import make_policy, make_stage, make_task
from careloop.followup.tests.uihelpers import make_visit as ui_visit
from careloop.notify import services
from careloop.notify.choices import OutboxStatus
from careloop.notify.models import OutboxMessage
from careloop.notify.tests.conftest import sent_lines
from careloop.patients.models import PatientPhone

pytestmark = pytest.mark.django_db
TZ = dt.timezone(dt.timedelta(hours=8))
NOON = dt.datetime(2026, 3, 18, 12, 0, tzinfo=TZ)


@pytest.fixture
def sms_tasks(org, templates, settings):
    settings.HOSPITAL_NAME = "第一人民医院"
    policy = make_policy()
    stage = make_stage(policy, code="sms", name="出院短信问候", channel="sms")
    with_phone = ui_visit(org["cardio"], patient_no="S1", name="陈静", visit_no="ZS1")
    with_phone.patient.sex = "2"
    with_phone.patient.save()
    PatientPhone.objects.create(patient=with_phone.patient, number="13900001111", is_preferred=True)
    PatientPhone.objects.create(patient=with_phone.patient, number="13900002222", position=1)
    without = ui_visit(org["cardio"], patient_no="S2", name="无电话", visit_no="ZS2")
    return {
        "stage": stage,
        "task": make_task(stage, with_phone),
        "no_phone": make_task(stage, without),
        "later": make_task(stage, with_phone, start=dt.date(2026, 3, 25), sequence=2,
                           status=TaskStatus.PLANNED),
    }  # fmt: skip


def test_one_message_per_task_across_reruns_F5(sms_tasks, sms_file):
    with time_machine.travel(NOON, tick=False):
        first = services.queue_stage_messages()
        second = services.queue_stage_messages()
    assert first == {"queued": 1, "no_phone": 1, "refused": 0, "no_template": 0}
    assert second["queued"] == 0
    message = OutboxMessage.objects.get()
    assert message.task_id == sms_tasks["task"].pk
    assert message.request_key == f"followup-task-{sms_tasks['task'].pk}"
    assert message.phone == "13900001111"  # the preferred phone
    assert message.template.code == "followup-greeting"
    assert message.body.startswith("陈静女士您好，我是第一人民医院心血管内科病区的回访人员。")
    sms_tasks["no_phone"].refresh_from_db()
    assert sms_tasks["no_phone"].status == TaskStatus.DUE  # left to the planner (E6)


def test_task_is_completed_when_its_message_is_sent_F7(sms_tasks, sms_file):
    with time_machine.travel(NOON, tick=False):
        services.queue_stage_messages()
        task = sms_tasks["task"]
        task.refresh_from_db()
        assert task.status == TaskStatus.DUE  # queued is not yet done
        assert services.send_due()["sent"] == 1
        task.refresh_from_db()
        assert task.status == TaskStatus.COMPLETED
        assert task.completed_at == NOON
        assert services.queue_stage_messages()["queued"] == 0
    assert OutboxMessage.objects.count() == 1
    assert len(sent_lines(sms_file)) == 1


def test_stage_script_names_the_template_and_greeting_uses_recovery(sms_tasks, sms_file):
    stage = sms_tasks["stage"]
    stage.script = "survey-link"
    stage.save()
    assert services.template_for_stage(stage).code == "survey-link"
    stage.script = "inpatient"  # a call script, not an SMS template
    stage.after_recovery = True
    assert services.template_for_stage(stage).code == "recovery-greeting"
    stage.after_recovery = False
    assert services.template_for_stage(stage).code == "followup-greeting"


def test_f4_greeting_preset_stage_uses_recovery_greeting(presets, templates):
    stage = presets["two-level"].stages.get(code="greeting")
    assert stage.channel == "sms"
    assert services.template_for_stage(stage).code == "recovery-greeting"


def test_nothing_is_sent_at_night_and_the_task_waits(sms_tasks, sms_file):
    night = dt.datetime(2026, 3, 18, 21, 0, tzinfo=TZ)
    with time_machine.travel(night, tick=False):
        services.queue_stage_messages()
        assert services.send_due()["sent"] == 0
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.QUEUED
    assert message.next_attempt_at == dt.datetime(2026, 3, 19, 8, 0, tzinfo=TZ)
    sms_tasks["task"].refresh_from_db()
    assert sms_tasks["task"].status == TaskStatus.DUE


def test_jobs_are_registered():
    from careloop.jobs import registry

    assert registry.get("notify-outbox").every == dt.timedelta(minutes=1)
    assert registry.get("notify-sms-stages").every == dt.timedelta(minutes=10)

"""F8–F11 on the call screen: attempts and their rules, the record with the questionnaire in one
transaction (idempotent), the escalation, the audited reveal, SMS, the next task."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from careloop.audit.choices import Action
from careloop.audit.models import AuditEvent
from careloop.cases.models import Escalation
from careloop.followup.calls import claim_task
from careloop.followup.choices import TaskStatus
from careloop.followup.models import CallAttempt, FollowUpRecord, FollowUpTask
from careloop.followup.tests.uihelpers import client_for
from careloop.workspace.tests.conftest import IN_HOURS, TZ

pytestmark = pytest.mark.django_db
DAY1 = dt.datetime(2026, 4, 1, 10, 30, tzinfo=TZ)
DAY2 = dt.datetime(2026, 4, 2, 15, 30, tzinfo=TZ)


def attempt(client, task, outcome, **extra):
    data = {"outcome": outcome, "request_key": extra.pop("request_key", ""), **extra}
    return client.post(f"/workspace/tasks/{task.pk}/attempt/", data)


def claimed(task, agent):
    return claim_task(FollowUpTask.objects.get(pk=task.pk), by=agent)


def status(task) -> str:
    return FollowUpTask.objects.get(pk=task.pk).status


def test_three_failed_attempts_on_two_days_make_the_task_unreachable_F8(people, build):
    agent = people["agent"]
    task = build.task(start=dt.date(2026, 3, 30))
    with time_machine.travel(DAY1, tick=False):
        client = client_for(agent)
        for outcome in ("no_answer", "busy"):
            claimed(task, agent)
            response = attempt(client, task, outcome)
            assert response.status_code == 302 and response["Location"] == "/workspace/"
            assert status(task) == TaskStatus.DUE
    with time_machine.travel(DAY2, tick=False):
        # The session times out overnight (S1): sign in again the next day.
        client = client_for(agent)
        claimed(task, agent)
        page = client.post(
            f"/workspace/tasks/{task.pk}/attempt/", {"outcome": "powered_off"}, follow=True
        ).content.decode()
    assert status(task) == TaskStatus.UNREACHABLE
    assert "已判定失访" in page


def test_three_failed_attempts_on_one_day_leave_the_task_due_F8(people, build):
    agent = people["agent"]
    task = build.task(start=dt.date(2026, 3, 30))
    with time_machine.travel(DAY1, tick=True):
        client = client_for(agent)
        for outcome in ("no_answer", "busy", "wrong_number"):
            claimed(task, agent)
            attempt(client, task, outcome)
    assert status(task) == TaskStatus.DUE
    assert CallAttempt.objects.filter(task=task).count() == 3


@time_machine.travel(IN_HOURS, tick=False)
def test_reschedule_needs_the_agreed_time_and_moves_the_task_F8(people, build):
    agent = people["agent"]
    task = build.task(start=dt.date(2026, 3, 30))
    client = client_for(agent)
    claimed(task, agent)
    response = attempt(client, task, "reschedule")
    assert response.status_code == 400 and "请填写约定的回访时间" in response.content.decode()
    response = attempt(client, task, "reschedule", agreed_at="2026-04-01T16:00")
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.DUE
    assert task.next_attempt_at == dt.datetime(2026, 4, 1, 16, 0, tzinfo=TZ)


@time_machine.travel(IN_HOURS, tick=False)
def test_deceased_asks_for_confirmation_then_excludes_all_open_tasks_E4(people, build, stage):
    agent = people["agent"]
    task = build.task(start=dt.date(2026, 3, 30))
    other = build.task(patient=task.patient, start=dt.date(2026, 4, 20), status=TaskStatus.PLANNED)
    client = client_for(agent)
    claimed(task, agent)
    response = attempt(client, task, "deceased", request_key="k-dead")
    assert response.status_code == 200 and 'id="confirm-box"' in response.content.decode()
    assert status(task) == TaskStatus.IN_PROGRESS and not CallAttempt.objects.exists()
    response = attempt(client, task, "deceased", request_key="k-dead", confirmed="on")
    assert response.status_code == 302
    for t in (task, other):
        t.refresh_from_db()
        assert (t.status, t.exclusion) == (TaskStatus.EXCLUDED, "E4")
    task.patient.refresh_from_db()
    assert task.patient.is_deceased


@time_machine.travel(IN_HOURS, tick=False)
def test_refusal_confirmed_applies_E6(people, build):
    agent = people["agent"]
    task = build.task(start=dt.date(2026, 3, 30))
    client = client_for(agent)
    claimed(task, agent)
    attempt(client, task, "refused", confirmed="on")
    task.refresh_from_db()
    assert (task.status, task.exclusion) == (TaskStatus.EXCLUDED, "E6")
    task.patient.refresh_from_db()
    assert task.patient.do_not_contact


def record_data(key="rk-1", **extra):
    data = {
        "request_key": key,
        "condition": "伤口愈合良好",
        "adherence": "regular",
        "education": ["diet", "recheck"],
        "q-attitude": "very_good",
        "q-guidance": "poor",
        "q-skill": "good",
        "q-ethics": "very_good",
        "q-overall": "good",
        "opinions": "出院指导讲得太快",
    }
    data.update(extra)
    return data


@time_machine.travel(IN_HOURS, tick=False)
def test_record_and_answers_saved_once_on_double_submit_and_poor_is_kept_F9_Q1(
    people, build, surveys_ready
):
    from careloop.surveys.models import Response
    from careloop.surveys.services import current_version, ratings_of

    agent = people["agent"]
    task = build.task(start=dt.date(2026, 3, 30))
    nxt = build.task(start=dt.date(2026, 3, 31))
    client = client_for(agent)
    claimed(task, agent)
    attempt(client, task, "reached_self")
    data = record_data(survey_version=current_version("inpatient").pk)
    first = client.post(f"/workspace/tasks/{task.pk}/complete/", data)
    second = client.post(f"/workspace/tasks/{task.pk}/complete/", data)
    # The next callable task is claimed and opened; the double submit lands there too.
    assert first["Location"] == second["Location"] == f"/workspace/tasks/{nxt.pk}/call/"
    assert FollowUpRecord.objects.filter(task=task).count() == 1
    assert Response.objects.filter(task=task).count() == 1
    record = FollowUpRecord.objects.get(task=task)
    assert (record.overall, record.education, record.by_id) == (
        "good",
        ["diet", "recheck"],
        agent.pk,
    )
    response = Response.objects.get(task=task)
    assert response.channel == "phone" and response.submitted_by_id == agent.pk
    assert ratings_of(response)["guidance"] == "poor"
    assert status(task) == TaskStatus.COMPLETED
    assert status(nxt) == TaskStatus.IN_PROGRESS


@time_machine.travel(IN_HOURS, tick=False)
def test_invalid_questionnaire_saves_nothing_and_overall_comes_from_it(
    people, build, surveys_ready
):
    from careloop.surveys.models import Response
    from careloop.surveys.services import current_version

    agent = people["agent"]
    task = build.task(start=dt.date(2026, 3, 30))
    client = client_for(agent)
    claimed(task, agent)
    version = current_version("inpatient").pk
    # 差 overall makes the "why" question required (Q1 conditional).
    bad = record_data(survey_version=version, **{"q-overall": "poor"})
    response = client.post(f"/workspace/tasks/{task.pk}/complete/", bad)
    assert response.status_code == 400
    assert not FollowUpRecord.objects.exists() and not Response.objects.exists()
    good = record_data(key="rk-2", survey_version=version, **{"q-overall": "poor",
                       "q-overall_reason": "等候时间太长"})  # fmt: skip
    response = client.post(f"/workspace/tasks/{task.pk}/complete/", good)
    assert response.status_code == 302 and response["Location"] == "/workspace/"
    assert FollowUpRecord.objects.get(task=task).overall == "poor"


@time_machine.travel(IN_HOURS, tick=False)
def test_next_follow_up_date_schedules_one_more_task_F9(people, build, surveys_ready):
    agent = people["agent"]
    task = build.task(start=dt.date(2026, 3, 30))
    client = client_for(agent)
    claimed(task, agent)
    response = client.post(
        f"/workspace/tasks/{task.pk}/complete/", record_data("rk-n", next_follow_up="2026-04-01")
    )
    assert response.status_code == 400 and "必须晚于今天" in response.content.decode()
    client.post(
        f"/workspace/tasks/{task.pk}/complete/", record_data("rk-n", next_follow_up="2026-04-15")
    )
    again = FollowUpTask.objects.exclude(pk=task.pk).get(visit=task.visit)
    assert (again.window_start, again.assignee_id) == (dt.date(2026, 4, 15), agent.pk)


@time_machine.travel(IN_HOURS, tick=False)
def test_escalation_goes_to_the_visits_attending_doctor_once_F11(people, build):
    agent, doctor = people["agent"], people["doctor"]
    task = build.task(start=dt.date(2026, 3, 30), doctor=doctor)
    client = client_for(agent)
    claimed(task, agent)
    data = {"reason": "post_op", "description": "术后伤口疼痛加重", "request_key": "esc-1"}
    html = client.post(f"/workspace/tasks/{task.pk}/escalate/", data, HTTP_HX_REQUEST="true")
    client.post(f"/workspace/tasks/{task.pk}/escalate/", data, HTTP_HX_REQUEST="true")
    assert "已转介主管医生 王医生" in html.content.decode()
    escalation = Escalation.objects.get()
    assert (escalation.doctor_id, escalation.raised_by_id, escalation.task_id) == (
        doctor.pk, agent.pk, task.pk,
    )  # fmt: skip
    assert escalation.due_at == IN_HOURS + dt.timedelta(hours=24)
    # It shows on the call screen as open.
    assert "术后伤口疼痛加重" in client.get(f"/workspace/tasks/{task.pk}/call/").content.decode()


@time_machine.travel(IN_HOURS, tick=False)
def test_escalation_needs_its_permission(people, build):
    from django.contrib.auth.models import Permission

    # Only the queue's permission, none of the role's (cases.add_escalation comes with roles).
    agent2 = people["agent2"]
    agent2.groups.clear()
    agent2.user_permissions.add(Permission.objects.get(codename="view_followuptask"))
    task = build.task(start=dt.date(2026, 3, 30))
    claimed(task, agent2)
    response = client_for(agent2).post(
        f"/workspace/tasks/{task.pk}/escalate/", {"reason": "other", "description": "x"}
    )
    assert response.status_code == 403 and not Escalation.objects.exists()


@time_machine.travel(IN_HOURS, tick=False)
def test_call_screen_masks_the_phone_and_the_reveal_is_audited_P3(people, build):
    agent = people["agent"]
    task = build.task(start=dt.date(2026, 3, 30), name="赵六")
    client = client_for(agent)
    claimed(task, agent)
    number = task.patient.phones.get().number
    page = client.get(f"/workspace/tasks/{task.pk}/call/").content.decode()
    assert number not in page and number[:3] + "****" + number[-4:] in page
    assert "您好！请问是赵六先生吗？" in page  # the script, filled (F10)
    revealed = client.post(f"/workspace/tasks/{task.pk}/reveal/", HTTP_HX_REQUEST="true")
    assert f'href="tel:{number}"' in revealed.content.decode()
    event = AuditEvent.objects.get(action=Action.REVEAL)
    assert event.object_id == str(task.patient_id) and event.actor_id == agent.pk


@time_machine.travel(IN_HOURS, tick=False)
def test_another_agent_cannot_reveal_or_record_on_my_task(people, build):
    agent, agent2 = people["agent"], people["agent2"]
    task = build.task(start=dt.date(2026, 3, 30))
    claimed(task, agent)
    other = client_for(agent2)
    assert other.post(f"/workspace/tasks/{task.pk}/reveal/").status_code == 403
    other.post(f"/workspace/tasks/{task.pk}/attempt/", {"outcome": "no_answer"})
    other.post(f"/workspace/tasks/{task.pk}/complete/", record_data())
    assert not CallAttempt.objects.exists() and not FollowUpRecord.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.REVEAL).exists()
    assert status(task) == TaskStatus.IN_PROGRESS


@time_machine.travel(IN_HOURS, tick=False)
def test_sms_preview_and_queue_once(people, build):
    from careloop.notify.defaults import ensure_templates
    from careloop.notify.models import OutboxMessage, SmsTemplate

    ensure_templates()
    agent = people["agent"]
    task = build.task(start=dt.date(2026, 3, 30), name="钱七")
    client = client_for(agent)
    claimed(task, agent)
    template = SmsTemplate.objects.filter(is_active=True).order_by("code").first()
    phone = task.patient.phones.get()
    data = {"template": template.pk, "phone": phone.pk, "request_key": "sms-1"}
    preview = client.post(f"/workspace/tasks/{task.pk}/sms/preview/", data, HTTP_HX_REQUEST="true")
    assert 'id="sms-preview"' in preview.content.decode()
    for _ in range(2):
        sent = client.post(f"/workspace/tasks/{task.pk}/sms/send/", data, HTTP_HX_REQUEST="true")
        assert "短信已加入发送队列" in sent.content.decode()
    message = OutboxMessage.objects.get()
    assert (message.task_id, message.phone) == (task.pk, phone.number)


@time_machine.travel(IN_HOURS, tick=False)
def test_esc_release_puts_the_task_back(people, build):
    agent = people["agent"]
    task = build.task(start=dt.date(2026, 3, 30))
    claimed(task, agent)
    response = client_for(agent).post(f"/workspace/tasks/{task.pk}/release/")
    assert response["Location"] == "/workspace/"
    task.refresh_from_db()
    assert (task.status, task.assignee_id) == (TaskStatus.DUE, agent.pk)

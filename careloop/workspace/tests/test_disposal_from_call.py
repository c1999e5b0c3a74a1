"""C1 from the call screen: a 差 saved through the workspace (a questionnaire dimension, the
questionnaire's 总评价 or the record's own 总评价) creates exactly one disposal form for the
visit's department, in the same transaction as the record, and its heads are told."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.messages import get_messages

from careloop.cases.choices import DisposalStatus
from careloop.cases.models import DisposalForm
from careloop.followup.choices import TaskStatus
from careloop.followup.models import FollowUpRecord, FollowUpTask
from careloop.followup.tests.uihelpers import client_for
from careloop.notify.models import Notification
from careloop.workspace.tests.conftest import IN_HOURS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("surveys_ready")]

ALL_GOOD = {"q-attitude": "very_good", "q-guidance": "good", "q-skill": "good",
            "q-ethics": "very_good", "q-overall": "good"}  # fmt: skip


def call_and_complete(client, task, key="rk-c1", **answers):
    """Claim on the queue, reach the patient, then save the record twice (a double submit)."""
    from careloop.surveys.services import current_version

    claimed = client.post(f"/workspace/tasks/{task.pk}/claim/")
    assert claimed.status_code == 302 and claimed["Location"] == f"/workspace/tasks/{task.pk}/call/"
    client.post(f"/workspace/tasks/{task.pk}/attempt/", {"outcome": "reached_self"})
    data = {
        "request_key": key, "condition": "恢复良好", "adherence": "regular",
        "survey_version": current_version("inpatient").pk, **ALL_GOOD, **answers,
    }  # fmt: skip
    return [client.post(f"/workspace/tasks/{task.pk}/complete/", data) for _ in range(2)]


def disposal_told(form):
    return sorted(
        Notification.objects.filter(key=f"disposal:{form.pk}:new").values_list(
            "recipient__username", flat=True
        )
    )


@time_machine.travel(IN_HOURS, tick=False)
def test_a_poor_from_the_workspace_creates_exactly_one_disposal_form_C1(people, build, org):
    agent = people["agent"]
    task = build.task(start=dt.date(2026, 3, 30), doctor=people["doctor"])
    first, second = call_and_complete(
        client_for(agent), task, **{"q-attitude": "poor", "opinions": "护士态度生硬"}
    )
    assert (first.status_code, second.status_code) == (302, 302)
    assert FollowUpRecord.objects.filter(task=task).count() == 1
    assert FollowUpTask.objects.get(pk=task.pk).status == TaskStatus.COMPLETED
    form = DisposalForm.objects.get()
    assert (form.task_id, form.department, form.status, form.followed_up_by) == (
        task.pk,
        org["cardio"],
        DisposalStatus.DEPARTMENT,
        agent,
    )
    assert form.poor_items == ["服务态度"]
    assert form.problem == "满意度评价为“差”：服务态度。\n患者意见：护士态度生硬"
    # 3 working days from Wed 2026-04-01: 04-02, 04-03, then 04-07 (Qingming 04-04..06 off).
    assert form.due_at == dt.datetime(2026, 4, 7, 10, 30, tzinfo=IN_HOURS.tzinfo)
    # The cardiology head is told once; nobody outside the department.
    assert disposal_told(form) == ["head.xnk"]
    # The agent is told too, on the page the save leads to.
    shown = [str(m) for m in get_messages(first.wsgi_request)]
    assert "评价为“差”：已为心血管内科病区生成处置反馈表，科主任和护士长已收到通知。" in shown


@time_machine.travel(IN_HOURS, tick=False)
def test_poor_overall_in_the_questionnaire_creates_one_form_C1(people, build):
    task = build.task(start=dt.date(2026, 3, 30))
    call_and_complete(
        client_for(people["agent"]), task,
        **{"q-overall": "poor", "q-overall_reason": "等候时间太长", "q-skill": "poor"},
    )  # fmt: skip
    form = DisposalForm.objects.get()
    assert form.poor_items == ["技术水平", "总评价"]
    assert (
        form.problem
        == "满意度评价为“差”：技术水平、总评价。\n请问您对哪些方面不满意？：等候时间太长"
    )
    assert disposal_told(form) == ["head.xnk"]


@time_machine.travel(IN_HOURS, tick=False)
def test_poor_overall_chosen_on_the_record_creates_one_form_C1(people, build):
    task = build.task(start=dt.date(2026, 3, 30))
    call_and_complete(client_for(people["agent"]), task, overall="poor")
    assert FollowUpRecord.objects.get(task=task).overall == "poor"
    assert DisposalForm.objects.get().poor_items == ["总评价"]


@time_machine.travel(IN_HOURS, tick=False)
def test_no_poor_creates_no_disposal_form_C1(people, build):
    task = build.task(start=dt.date(2026, 3, 30))
    call_and_complete(client_for(people["agent"]), task, **{"q-overall": "fair"})
    assert FollowUpRecord.objects.filter(task=task).count() == 1
    assert not DisposalForm.objects.exists()
    assert not Notification.objects.filter(kind="disposal").exists()


@time_machine.travel(IN_HOURS, tick=False)
def test_refused_record_creates_no_disposal_form_C1(people, build):
    from careloop.surveys.services import current_version

    agent = people["agent"]
    task = build.task(start=dt.date(2026, 3, 30))
    client = client_for(agent)
    client.post(f"/workspace/tasks/{task.pk}/claim/")
    # 差 overall without the required "why": 400, and nothing at all is written.
    response = client.post(
        f"/workspace/tasks/{task.pk}/complete/",
        {"request_key": "rk-bad", "survey_version": current_version("inpatient").pk,
         **ALL_GOOD, "q-overall": "poor"},
    )  # fmt: skip
    assert response.status_code == 400
    assert not FollowUpRecord.objects.exists() and not DisposalForm.objects.exists()
    assert not Notification.objects.filter(kind="disposal").exists()

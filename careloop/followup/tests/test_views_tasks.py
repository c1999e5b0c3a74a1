"""The supervisors' task list and task page (F7, F12, E7) with the O3 scope."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from careloop.accounts.roles import Role
from careloop.followup.choices import TaskEventKind, TaskStatus
from careloop.followup.models import FollowUpTask, TaskEvent
from careloop.followup.tests.uihelpers import (
    client_for,
    make_policy,
    make_stage,
    make_task,
    make_visit,
)
from careloop.org.models import Leave

pytestmark = pytest.mark.django_db
TODAY = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def tasks(org):
    policy = make_policy()
    stage = make_stage(policy)
    cardio = make_visit(org["cardio"], patient_no="P100", name="张心内", visit_no="Z100")
    ortho = make_visit(org["ortho"], patient_no="P200", name="李骨科", visit_no="Z200")
    return {
        "stage": stage,
        # Window closed on 2026-03-23 and still open: overdue on 2026-04-01.
        "cardio": make_task(stage, cardio),
        "ortho": make_task(stage, ortho, start=dt.date(2026, 3, 30)),
        "excluded": make_task(
            stage,
            make_visit(org["cardio"], patient_no="P101", name="王纠纷", visit_no="Z101"),
            status=TaskStatus.EXCLUDED,
            exclusion="E1",
        ),
    }


@pytest.fixture
def supervisor(org, make_user):
    return make_user("supervisor", Role.SUPERVISOR, departments=[org["service"]])


def listed(client, **params) -> str:
    response = client.get("/followup/tasks/", params)
    assert response.status_code == 200
    return response.content.decode()


def test_ortho_nurse_sees_only_ortho_tasks_and_gets_404_for_cardio_O3(personas, tasks):
    client = client_for(personas["ortho_nurse"])
    html = listed(client)
    assert "李骨科" in html and "张心内" not in html and "王纠纷" not in html
    assert client.get(f"/followup/tasks/{tasks['cardio'].pk}/").status_code == 404
    assert client.get(f"/followup/tasks/{tasks['ortho'].pk}/").status_code == 200


def test_agent_sees_every_department_and_filters_by_patient_O3(personas, tasks):
    client = client_for(personas["agent"])
    html = listed(client)
    assert all(name in html for name in ("张心内", "李骨科", "王纠纷"))
    only = listed(client, q="P200")
    assert "李骨科" in only and "张心内" not in only
    assert "张心内" in listed(client, q="心内")


@time_machine.travel(TODAY, tick=False)
def test_overdue_badge_and_filter_F7(personas, tasks):
    client = client_for(personas["agent"])
    overdue = listed(client, overdue="on")
    assert "张心内" in overdue and "李骨科" not in overdue and "王纠纷" not in overdue
    assert overdue.count('badge text-bg-danger">逾期') == 1


def test_filters_by_status_exclusion_department_and_window(personas, tasks, org):
    client = client_for(personas["agent"])
    assert "王纠纷" in listed(client, exclusion="E1")
    assert "张心内" not in listed(client, exclusion="E1")
    assert "李骨科" not in listed(client, department=org["cardio"].pk)
    html = listed(client, window_from="2026-03-25", window_to="2026-04-30")
    assert "李骨科" in html and "张心内" not in html
    assert "李骨科" in listed(client, policy="test-policy", status="due")


def test_the_list_needs_the_view_permission(personas, tasks):
    assert client_for(personas["leader"]).get("/followup/tasks/").status_code == 403
    assert client_for(personas["auditor"]).get("/followup/tasks/").status_code == 403


def test_htmx_request_returns_only_the_table(personas, tasks):
    client = client_for(personas["agent"])
    partial = client.get("/followup/tasks/", {"q": "P200"}, HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert "<nav" not in html and 'id="results"' in html and "李骨科" in html


def test_supervisor_reassigns_in_bulk_F12(personas, tasks, supervisor):
    agent = personas["agent"]
    client = client_for(supervisor)
    assert 'id="reassign-form"' in listed(client)
    ids = [tasks["cardio"].pk, tasks["ortho"].pk]
    response = client.post(
        "/followup/tasks/reassign/",
        {"task": ids, "to_user": agent.pk, "note": "护士休假", "query": "status=due"},
    )
    assert response.status_code == 302 and response["Location"] == "/followup/tasks/?status=due"
    moved = FollowUpTask.objects.filter(pk__in=ids)
    assert {(t.assignee_id, t.assigned_by_plan) for t in moved} == {(agent.pk, False)}
    events = TaskEvent.objects.filter(task_id__in=ids, kind=TaskEventKind.REASSIGNED)
    assert sorted(e.note for e in events) == ["护士休假", "护士休假"]


def test_reassign_refused_without_permission_changes_nothing(personas, tasks):
    client = client_for(personas["cardio_nurse"])
    assert 'id="reassign-form"' not in listed(client)
    response = client.post(
        "/followup/tasks/reassign/",
        {"task": [tasks["cardio"].pk], "to_user": personas["cardio_nurse"].pk},
    )
    assert response.status_code == 403
    assert FollowUpTask.objects.get(pk=tasks["cardio"].pk).assignee_id is None


def test_head_nurse_cannot_reassign_another_departments_task_O3(org, make_user, tasks, personas):
    head_nurse = make_user("headnurse.gk", Role.HEAD_NURSE, departments=[org["ortho"]])
    ortho_nurse = personas["ortho_nurse"]
    client = client_for(head_nurse)
    client.post(
        "/followup/tasks/reassign/",
        {"task": [tasks["cardio"].pk, tasks["ortho"].pk], "to_user": ortho_nurse.pk},
    )
    assert FollowUpTask.objects.get(pk=tasks["cardio"].pk).assignee_id is None
    assert FollowUpTask.objects.get(pk=tasks["ortho"].pk).assignee_id == ortho_nurse.pk
    # A colleague of another department is not a valid target.
    response = client.post(
        "/followup/tasks/reassign/",
        {"task": [tasks["ortho"].pk], "to_user": personas["cardio_nurse"].pk},
        follow=True,
    )
    assert "所选人员不可改派" in response.content.decode()
    assert FollowUpTask.objects.get(pk=tasks["ortho"].pk).assignee_id == ortho_nurse.pk


def test_reassign_to_someone_on_leave_is_refused_with_the_reason_F12(personas, tasks, supervisor):
    agent = personas["agent"]
    today = dt.date.today()
    Leave.objects.create(staff=agent, starts_on=today - dt.timedelta(days=1), ends_on=today)
    response = client_for(supervisor).post(
        "/followup/tasks/reassign/",
        {"task": [tasks["cardio"].pk], "to_user": agent.pk},
        follow=True,
    )
    assert "正在请假" in response.content.decode()
    assert FollowUpTask.objects.get(pk=tasks["cardio"].pk).assignee_id is None


def test_reassign_without_a_selection_says_so(personas, tasks, supervisor):
    response = client_for(supervisor).post(
        "/followup/tasks/reassign/", {"to_user": personas["agent"].pk}, follow=True
    )
    assert "请先勾选要改派的任务。" in response.content.decode()


def test_task_page_shows_visit_patient_and_timeline(personas, tasks, supervisor):
    task = tasks["cardio"]
    TaskEvent.objects.create(task=task, kind=TaskEventKind.CREATED, note="计划生成")
    html = client_for(supervisor).get(f"/followup/tasks/{task.pk}/").content.decode()
    assert "张心内" in html and "Z100" in html and "心血管内科病区" in html
    assert "计划生成" in html and "2026-03-17 – 2026-03-23" in html
    assert "解除不予回访" not in html  # not excluded: nothing to lift


def test_lift_exclusion_requires_a_note_E7(personas, tasks, supervisor):
    task = tasks["excluded"]
    client = client_for(supervisor)
    assert "解除不予回访（E7）" in client.get(f"/followup/tasks/{task.pk}/").content.decode()
    response = client.post(f"/followup/tasks/{task.pk}/lift-exclusion/", {"note": "  "})
    assert response.status_code == 200 and "请填写解除说明" in response.content.decode()
    task.refresh_from_db()
    assert (task.status, task.exclusion, task.lifted) == (TaskStatus.EXCLUDED, "E1", "")

    response = client.post(f"/followup/tasks/{task.pk}/lift-exclusion/", {"note": "纠纷已调解"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.exclusion, task.lifted) == ("", "E1")
    assert task.status in (TaskStatus.PLANNED, TaskStatus.DUE)
    event = TaskEvent.objects.get(task=task, kind=TaskEventKind.LIFTED)
    assert (event.note, event.by_id) == ("纠纷已调解", supervisor.pk)


def test_lift_exclusion_refused_without_permission_E7(personas, tasks):
    task = tasks["excluded"]
    client = client_for(personas["cardio_nurse"])
    assert "解除不予回访（E7）" not in client.get(f"/followup/tasks/{task.pk}/").content.decode()
    response = client.post(f"/followup/tasks/{task.pk}/lift-exclusion/", {"note": "想解除"})
    assert response.status_code == 403
    task.refresh_from_db()
    assert (task.status, task.exclusion) == (TaskStatus.EXCLUDED, "E1")
    assert not TaskEvent.objects.filter(task=task).exists()


def test_lift_exclusion_of_another_departments_task_is_404_O3(org, make_user, tasks):
    # Medical affairs may lift, but a scoped user never reaches a task outside its departments.
    task = tasks["excluded"]
    ortho_head = make_user("head.gk", Role.DEPT_HEAD, departments=[org["ortho"]])
    assert client_for(ortho_head).get(f"/followup/tasks/{task.pk}/").status_code == 404

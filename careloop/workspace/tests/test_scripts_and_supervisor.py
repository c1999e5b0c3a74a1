"""F10 script editor; item 8 supervisor workload and live board (F12)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from careloop.followup.choices import TaskStatus
from careloop.followup.models import CallScript
from careloop.followup.tests.uihelpers import client_for
from careloop.workspace.tests.conftest import IN_HOURS, TZ

pytestmark = pytest.mark.django_db


def script_post(**extra):
    data = {
        "code": "home",
        "name": "上门回访",
        "satisfied_reply": "谢谢{称呼}！",
        "dissatisfied_reply": "很抱歉。",
        "steps-TOTAL_FORMS": "2",
        "steps-INITIAL_FORMS": "0",
        "steps-0-title": "问候",
        "steps-0-key": "greeting",
        "steps-0-text": "您好，{姓名}{称呼}！我是{医院}的{回访员}。",
        "steps-1-title": "",
        "steps-1-text": "",
    }
    data.update(extra)
    return data


def test_unknown_placeholder_is_refused_in_chinese_F10(people, stage):
    client = client_for(people["supervisor"])
    response = client.post("/workspace/scripts/add/", script_post(**{"steps-0-text": "您好{病人}"}))
    assert response.status_code == 200
    assert "无法识别的占位符：{病人}" in response.content.decode()
    assert not CallScript.objects.filter(code="home").exists()


def test_script_saved_with_its_steps_and_previewed_for_a_sample_patient_F10(people, stage):
    client = client_for(people["supervisor"])
    preview = client.post("/workspace/scripts/preview/", script_post(), HTTP_HX_REQUEST="true")
    assert "您好，张三先生！我是示范医院的supervisor。" in preview.content.decode()
    response = client.post("/workspace/scripts/add/", script_post())
    assert response.status_code == 302
    script = CallScript.objects.get(code="home")
    assert script.steps == [
        {"key": "greeting", "title": "问候", "text": "您好，{姓名}{称呼}！我是{医院}的{回访员}。"}
    ]
    page = client.get("/workspace/scripts/inpatient/").content.decode()
    assert "您好！请问是张三先生吗？" in page  # the default script (seed 000) previewed


def test_scripts_are_refused_without_the_permission(people, stage):
    assert client_for(people["leader"]).get("/workspace/scripts/").status_code == 403
    response = client_for(people["agent"]).post("/workspace/scripts/inpatient/", script_post())
    assert response.status_code == 403
    assert CallScript.objects.get(code="inpatient").name == "出院患者电话回访"


@time_machine.travel(IN_HOURS, tick=False)
def test_workload_and_board_count_per_agent_and_department(people, build):
    agent, agent2 = people["agent"], people["agent2"]
    d = dt.date
    today = dt.datetime(2026, 4, 1, 9, 0, tzinfo=TZ)
    build.task(assignee=agent, start=d(2026, 3, 30))
    build.task(assignee=agent, status=TaskStatus.IN_PROGRESS, start=d(2026, 3, 30))
    build.task(assignee=agent, status=TaskStatus.PLANNED, start=d(2026, 4, 20))
    build.task(
        assignee=agent, status=TaskStatus.COMPLETED, completed_at=today, start=d(2026, 3, 30)
    )
    build.task(dept="ortho", assignee=agent2, status=TaskStatus.UNREACHABLE, completed_at=today,
               start=d(2026, 3, 30))  # fmt: skip
    build.task(assignee=agent2, status=TaskStatus.COMPLETED, start=d(2026, 3, 1),
               completed_at=dt.datetime(2026, 3, 10, tzinfo=TZ))  # last month  # fmt: skip
    build.task(start=d(2026, 3, 30))  # pool
    client = client_for(people["supervisor"])
    html = client.get("/workspace/workload/").content.decode()
    row = html.split('data-agent="agent1"')[1].split("</tr>")[0]
    for col, n in (("open", 3), ("due", 2), ("done_today", 1), ("done_month", 1)):
        assert f'data-col="{col}">{n}<' in row, col
    row2 = html.split('data-agent="agent2"')[1].split("</tr>")[0]
    assert 'data-col="done_month">1<' in row2 and 'data-col="open">0<' in row2
    assert 'id="pool">1<' in html
    assert f"/followup/tasks/?assignee={agent.pk}&amp;status=due" in html

    board = client.get("/workspace/board/", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 30s"' in board
    a1 = board.split('data-agent="agent1"')[1].split("</tr>")[0]
    for col, n in (("due", 1), ("in_progress", 1), ("done", 1), ("unreachable", 0)):
        assert f'data-col="{col}">{n}<' in a1, col
    ortho = board.split(f'data-department="{people["ortho_nurse"].departments.get().pk}"')[1]
    assert 'data-col="unreachable">1<' in ortho.split("</tr>")[0]


def test_supervisor_pages_are_refused_to_agents(people):
    client = client_for(people["agent"])
    assert client.get("/workspace/workload/").status_code == 403
    assert client.get("/workspace/board/").status_code == 403

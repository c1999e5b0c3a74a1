"""F11 pages: the escalation list (待我确认 for the doctor and the department head, overdue first),
the page where the visit's doctor acknowledges and records what was done — and the refusals:
another department's doctor gets a 404, a colleague who is not the visit's doctor a 400 with the
service's message, and nothing changes."""

from __future__ import annotations

import pytest
import time_machine

from careloop.accounts.roles import Role
from careloop.cases.choices import EscalationStatus
from careloop.cases.models import Escalation
from careloop.cases.services import raise_escalation
from careloop.cases.tests.conftest import at
from careloop.followup.tests.uihelpers import client_for
from careloop.notify.models import Notification

pytestmark = pytest.mark.django_db

RAISED = "2026-04-01 10:30"
WOUND = "术后伤口疼痛加重，夜间无法入睡"
DONE = "已电话联系患者，嘱明日来院复查换药。"


def escalate(build, people, *, when=RAISED, name="刘术后", dept="cardio", doctor="doctor"):
    with time_machine.travel(at(when), tick=False):
        task = build.task(dept, doctor=people[doctor] if doctor else None)
        task.patient.name = name
        task.patient.save(update_fields=["name"])
        return raise_escalation(task, by=people["agent"], reason="post_op", description=WOUND)


def snapshot(esc) -> dict:
    return Escalation.objects.filter(pk=esc.pk).values().get()


def told(user) -> list[tuple[str, str, str]]:
    return list(
        Notification.objects.filter(recipient=user)
        .order_by("pk")
        .values_list("title", "body", "url")
    )


@pytest.fixture
def esc(build, people):
    return escalate(build, people)


@pytest.fixture
def colleague(org, make_user):
    """A cardiology doctor who is not the visit's doctor."""
    return make_user("doctor.xnk2", Role.DOCTOR, departments=[org["cardio"]], full_name="赵医生")


def test_doctor_sees_it_waiting_for_him_F11(esc, people):
    page = client_for(people["doctor"]).get("/cases/escalations/").content.decode()
    assert 'aria-current="page" data-tab="mine"' in page
    assert f'data-escalation="{esc.pk}"' in page and "刘术后" in page and "术后不适" in page
    # The department head finds it under 待我确认 too; the agent's list opens on 全部未处理.
    head = client_for(people["dept_head"]).get("/cases/escalations/").content.decode()
    assert 'aria-current="page" data-tab="mine"' in head and f'data-escalation="{esc.pk}"' in head
    agent = client_for(people["agent"]).get("/cases/escalations/").content.decode()
    assert 'aria-current="page" data-tab="open"' in agent and "刘术后" in agent


def test_colleague_sees_it_but_not_as_his_to_confirm_F11(esc, people, colleague):
    client = client_for(colleague)
    mine = client.get("/cases/escalations/").content.decode()
    assert f'data-escalation="{esc.pk}"' not in mine
    every = client.get("/cases/escalations/?tab=open").content.decode()
    assert f'data-escalation="{esc.pk}"' in every


def test_another_departments_doctor_gets_404_and_cannot_acknowledge_F11_O3(esc, people):
    before = snapshot(esc)
    ortho = client_for(people["ortho_doctor"])
    assert (
        f'data-escalation="{esc.pk}"'
        not in ortho.get("/cases/escalations/?tab=open").content.decode()
    )
    assert ortho.get(f"/cases/escalations/{esc.pk}/").status_code == 404
    response = ortho.post(
        f"/cases/escalations/{esc.pk}/acknowledge/", {"action": "done", "action_taken": DONE}
    )
    assert response.status_code == 404
    assert snapshot(esc) == before
    assert told(people["agent"]) == []


def test_a_colleague_who_is_not_the_visits_doctor_cannot_acknowledge_F11(esc, people, colleague):
    before = snapshot(esc)
    client = client_for(colleague)
    page = client.get(f"/cases/escalations/{esc.pk}/").content.decode()
    assert WOUND in page and 'id="escalation-answer"' not in page
    response = client.post(f"/cases/escalations/{esc.pk}/acknowledge/", {"action": "acknowledge"})
    assert response.status_code == 400
    assert "只有该就诊的主管医生或本科室科主任可以确认" in response.content.decode()
    assert snapshot(esc) == before
    assert told(people["agent"]) == []


def test_acknowledge_then_complete_tells_the_raiser_F11(esc, people):
    doctor, agent = people["doctor"], people["agent"]
    url = f"/cases/escalations/{esc.pk}/"
    with time_machine.travel(at("2026-04-01 14:00"), tick=False) as clock:
        client = client_for(doctor)
        page = client.get(url).content.decode()
        assert 'id="escalation-answer"' in page and "2026-04-02 10:30" in page
        response = client.post(url + "acknowledge/", {"action": "acknowledge"})
        assert response.status_code == 302 and response["Location"] == url
        esc.refresh_from_db()
        assert (esc.status, esc.acknowledged_by_id, esc.acknowledged_at, esc.closed_at) == (
            EscalationStatus.ACKNOWLEDGED, doctor.pk, at("2026-04-01 14:00"), None,
        )  # fmt: skip
        assert told(agent) == [("医生已确认转介：刘术后", "", url)]

        # Completing needs the record: a 400 next to the field, nothing changed.
        before = snapshot(esc)
        empty = client.post(url + "acknowledge/", {"action": "done", "action_taken": " "})
        assert empty.status_code == 400
        assert '<div class="text-danger small field-error">请填写处理情况</div>' in (
            empty.content.decode()
        )
        assert snapshot(esc) == before

        clock.move_to(at("2026-04-01 14:20"))  # within the idle timeout (S1)
        response = client.post(url + "acknowledge/", {"action": "done", "action_taken": DONE})
        assert response.status_code == 302 and response["Location"] == url
        esc.refresh_from_db()
        assert (esc.status, esc.action_taken, esc.closed_at, esc.acknowledged_at) == (
            EscalationStatus.CLOSED, DONE, at("2026-04-01 14:20"), at("2026-04-01 14:00"),
        )  # fmt: skip
        assert told(agent) == [
            ("医生已确认转介：刘术后", "", url),
            ("医生已处理转介：刘术后", DONE, url),
        ]
        page = client.get(url).content.decode()
        assert DONE in page and 'id="escalation-answer"' not in page
        closed = client.get("/cases/escalations/?tab=closed").content.decode()
        assert f'data-escalation="{esc.pk}"' in closed
        again = client.post(url + "acknowledge/", {"action": "done", "action_taken": DONE})
        assert again.status_code == 400 and "该转介已处理完毕" in again.content.decode()


def test_department_head_may_complete_it_at_once_F11(esc, people):
    head = people["dept_head"]
    response = client_for(head).post(
        f"/cases/escalations/{esc.pk}/acknowledge/", {"action": "done", "action_taken": DONE}
    )
    assert response.status_code == 302
    esc.refresh_from_db()
    assert (esc.status, esc.acknowledged_by_id) == (EscalationStatus.CLOSED, head.pk)


def test_list_puts_the_overdue_first_with_its_badge_and_searches_by_name_F11(build, people):
    late = escalate(build, people, when="2026-04-01 10:30", name="钱逾期")
    fresh = escalate(build, people, when="2026-04-03 09:00", name="孙新近")
    with time_machine.travel(at("2026-04-03 10:00"), tick=False):
        client = client_for(people["doctor"])
        page = client.get("/cases/escalations/").content.decode()
        assert page.index("钱逾期") < page.index("孙新近")
        rows = {r.split('"')[0]: r.split("</tr>")[0] for r in page.split('data-escalation="')[1:]}
        assert 'data-deadline="overdue">已逾期' in rows[str(late.pk)]
        assert "data-deadline" not in rows[str(fresh.pk)]
        found = client.get("/cases/escalations/", {"q": "孙新"}).content.decode()
    assert f'data-escalation="{fresh.pk}"' in found and f'data-escalation="{late.pk}"' not in found
    # Four hours before its deadline it turns amber.
    with time_machine.travel(at("2026-04-04 06:00"), tick=False):
        page = client_for(people["doctor"]).get("/cases/escalations/").content.decode()
    row = page.split(f'data-escalation="{fresh.pk}"')[1].split("</tr>")[0]
    assert 'data-deadline="near">临近期限' in row


def test_htmx_search_returns_only_the_results_F11(esc, people):
    response = client_for(people["doctor"]).get(
        "/cases/escalations/", {"tab": "open", "q": "刘"}, HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="results",
    )  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 200 and page.lstrip().startswith('<div id="results">')
    assert f'data-escalation="{esc.pk}"' in page and "<html" not in page

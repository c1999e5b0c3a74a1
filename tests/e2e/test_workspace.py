"""E2E (F6–F10, CONVENTIONS "every form works with the keyboard alone"): an agent signs in, takes
the first task of the queue, walks the call script, records two failed attempts on one day and then
a completed follow-up with 差 on one dimension — with the keyboard only (no mouse after login) —
and the record and the rating are in the database.

Independent of the hour: the queue lists every task whose window is open; only the "callable now"
badge depends on the call hours (F6), and nothing here needs it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.e2e.test_roles import login, path_of

pytestmark = pytest.mark.e2e
PASSWORD = "Agent-Pass-2026!"
MAX_TABS = 200


def tab_to(page, selector: str) -> None:
    """Press Tab until the focused element matches ``selector`` (keyboard only)."""
    for _ in range(MAX_TABS):
        if page.evaluate(
            "s => !!document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def active_step(page) -> int:
    return int(page.locator("#script-steps .script-step.active").get_attribute("data-step"))


def press_and_wait(page, keys: str, path: str) -> None:
    with page.expect_navigation():
        page.keyboard.press(keys)
    assert path_of(page) == path, page.url


@pytest.fixture
def call_task(live_server, org, make_user):
    from careloop.accounts.roles import Role
    from careloop.followup.presets import ensure_scripts
    from careloop.followup.tests.uihelpers import make_policy, make_stage, make_task, make_visit
    from careloop.patients.models import PatientPhone
    from careloop.surveys.presets import ensure_presets

    ensure_scripts()
    ensure_presets()
    agent = make_user("agent1", Role.AGENT, departments=[org["service"]], password=PASSWORD,
                      full_name="回访员甲")  # fmt: skip
    stage = make_stage(make_policy(is_active=True), questionnaire="inpatient", script="inpatient")
    today = timezone.localdate()
    discharged = timezone.now() - dt.timedelta(days=8)
    visit = make_visit(org["cardio"], patient_no="E2E001", name="孙八", visit_no="ZY9001",
                       discharged=discharged)  # fmt: skip
    visit.patient.sex = "1"
    visit.patient.save(update_fields=["sex"])
    PatientPhone.objects.create(patient=visit.patient, number="13912345678", is_preferred=True)
    task = make_task(
        stage, visit, start=today - dt.timedelta(days=1), end=today + dt.timedelta(days=5)
    )
    return agent, task


def test_agent_works_a_task_with_the_keyboard_only(page, call_task):
    from careloop.followup.choices import TaskStatus
    from careloop.followup.models import CallAttempt, FollowUpRecord, FollowUpTask
    from careloop.surveys.models import Response
    from careloop.surveys.services import ratings_of

    agent, task = call_task
    login(page, "agent1", PASSWORD)
    page.goto("/workspace/")
    call_path = f"/workspace/tasks/{task.pk}/call/"

    # The first task's "开始回访" has the focus; Enter claims it and opens the call screen.
    tab_to(page, f'tr[data-task="{task.pk}"] .claim-button')
    press_and_wait(page, "Enter", call_path)
    assert "孙八" in page.locator("h1").inner_text()
    assert "13912345678" not in page.content()  # masked until revealed (P3)

    # Walk the script (F10): Alt+N forward, Alt+P back.
    assert active_step(page) == 0
    assert "请问是孙八先生吗" in page.locator("#script-steps .script-step.active").inner_text()
    for _ in range(3):
        page.keyboard.press("Alt+N")
    assert active_step(page) == 3
    page.keyboard.press("Alt+P")
    assert active_step(page) == 2

    # Two failed attempts on one day (F8): Alt+3 无人接听, Alt+4 占线 — the task stays due.
    press_and_wait(page, "Alt+3", "/workspace/")
    assert "未接通（第 1 次）" in page.locator("#messages").inner_text()
    tab_to(page, f'tr[data-task="{task.pk}"] .claim-button')
    press_and_wait(page, "Enter", call_path)
    press_and_wait(page, "Alt+4", "/workspace/")
    assert "未接通（第 2 次）" in page.locator("#messages").inner_text()
    assert FollowUpTask.objects.get(pk=task.pk).status == TaskStatus.DUE

    # Third call: reached (Alt+1); the record form takes the focus.
    tab_to(page, f'tr[data-task="{task.pk}"] .claim-button')
    press_and_wait(page, "Enter", call_path)
    press_and_wait(page, "Alt+1", call_path)
    assert "已接通" in page.locator("#messages").inner_text()
    tab_to(page, "textarea[name=condition]")
    page.keyboard.type("伤口愈合良好，睡眠一般")
    tab_to(page, "input[name=adherence]")
    page.keyboard.press("Space")  # 遵医嘱规律服药
    tab_to(page, "input[name=education]")
    page.keyboard.press("Space")  # 饮食
    # The questionnaire: Space picks 很好; in 出院指导 the arrow keys walk to 差.
    tab_to(page, "input[name=q-attitude]")
    page.keyboard.press("Space")
    tab_to(page, "input[name=q-guidance]")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    tab_to(page, "input[name=q-skill]")
    page.keyboard.press("Space")
    tab_to(page, "input[name=q-ethics]")
    page.keyboard.press("Space")
    tab_to(page, "input[name=q-overall]")
    page.keyboard.press("ArrowRight")  # 好
    tab_to(page, "textarea[name=opinions]")
    page.keyboard.type("出院指导讲得太快")
    with page.expect_navigation():
        page.keyboard.press("Alt+S")
    # No other callable task: back to the queue with the confirmation.
    assert path_of(page) == "/workspace/"
    assert "已保存 孙八 的回访记录" in page.locator("#messages").inner_text()

    task = FollowUpTask.objects.get(pk=task.pk)
    assert task.status == TaskStatus.COMPLETED
    record = FollowUpRecord.objects.get(task=task)
    assert record.condition == "伤口愈合良好，睡眠一般"
    assert (record.adherence, record.education, record.overall) == ("regular", ["diet"], "good")
    assert record.opinions == "出院指导讲得太快" and record.by_id == agent.pk
    response = Response.objects.get(task=task)
    assert ratings_of(response) == {
        "attitude": "very_good",
        "guidance": "poor",
        "skill": "very_good",
        "ethics": "very_good",
        "overall": "good",
    }
    outcomes = list(CallAttempt.objects.filter(task=task).values_list("outcome", flat=True))
    assert outcomes == ["no_answer", "busy", "reached_self"]

"""E2E (C2, C3): a service supervisor registers a complaint on /cases/new/ as during a phone call
(keyboard first: the kind has the focus, Tab walks the form), moves it 受理 → 调查核实 → 处理
(finding 属实, responsible department, measure) → 答复患者 → 关闭, and the re-follow-up appears
on the case page and on /cases/refollows/, where the patient's answer closes the loop."""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_roles import login, path_of

pytestmark = pytest.mark.e2e
PASSWORD = "Super-Pass-2026!"


@pytest.fixture
def supervisor(live_server, org, make_user):
    from careloop.accounts.roles import Role
    from careloop.cases.presets import ensure_case_presets
    from careloop.followup.tests.uihelpers import make_visit

    # The live server's database is flushed between tests: the presets are rebuilt here.
    ensure_case_presets()
    make_visit(org["cardio"], patient_no="BL2026", name="孙八", visit_no="ZY2026")
    return make_user("supervisor", Role.SUPERVISOR, departments=[org["service"]],
                     password=PASSWORD, full_name="周主管")  # fmt: skip


def focused(page, selector: str) -> bool:
    return page.evaluate(
        "s => !!document.activeElement && document.activeElement.matches(s)", selector
    )


def step(page, target: str, message: str, status: str) -> None:
    with page.expect_navigation():
        page.locator(f"#to-{target}").click()
    assert message in page.locator("#messages").inner_text()
    assert page.locator("#case-status").inner_text() == status
    assert page.locator('#case-steps [aria-current="step"]').inner_text() == status


def test_supervisor_takes_a_complaint_through_to_loop_closure(page, supervisor, org):
    from careloop.cases.models import Case, CaseRefollow

    login(page, "supervisor", PASSWORD)
    page.goto("/cases/new/")
    # Keyboard first: the kind has the focus; arrows choose; Tab goes on to the source.
    assert focused(page, "input[name=kind][value=complaint]")
    page.keyboard.press("ArrowRight")
    assert focused(page, "input[name=kind][value=opinion]")
    page.keyboard.press("ArrowLeft")
    assert page.locator("input[name=kind][value=complaint]").is_checked()
    page.keyboard.press("Tab")
    assert focused(page, "select[name=source]")
    page.keyboard.press("Tab")
    assert focused(page, "select[name=category]")
    # A complaint is not offered the praise categories (C4 categories are for praise only).
    assert page.locator("select[name=category] option", has_text="锦旗").is_hidden()
    page.locator("select[name=category]").select_option(label="护士")
    page.locator("select[name=severity]").select_option("important")
    page.locator("input[name=summary]").fill("夜班呼叫无人应答")
    page.locator("textarea[name=description]").fill(
        "家属反映 3 月 30 日夜间呼叫护士 20 分钟无人应答。"
    )
    page.locator("input[name=contact_name]").fill("孙八家属")
    page.locator("input[name=contact_phone]").fill("13800138000")
    page.locator("input[name=patient_no]").fill("BL2026")
    page.locator("select[name=departments]").select_option(str(org["cardio"].pk))
    page.locator("input[name=staff_names]").fill("夜班护士")
    with page.expect_navigation():
        page.locator("input[name=staff_names]").press("Enter")

    case = Case.objects.get()
    assert path_of(page) == f"/cases/{case.pk}/"
    assert re.search(rf"已登记投诉，编号 {case.number}，答复期限 \d{{4}}-\d\d-\d\d \d\d:\d\d。",
                     page.locator("#messages").inner_text())  # fmt: skip
    assert page.locator("#case-status").inner_text() == "登记"
    assert "孙八（BL2026）" in page.locator("#case-patient").inner_text()
    assert page.locator("#case-departments").inner_text() == "心血管内科病区"

    step(page, "accepted", "已进入“受理”", "受理")
    page.locator("textarea[name=to-investigating-investigation]").fill("调阅排班与呼叫记录。")
    step(page, "investigating", "已进入“调查核实”", "调查核实")
    handling = page.locator("#advance-handling")
    handling.get_by_label("属实", exact=True).check()
    handling.locator("select").select_option(str(org["cardio"].pk))
    handling.locator("input[name=to-handling-responsible_person]").fill("刘护士")
    handling.locator("textarea[name=to-handling-measure]").fill("科内通报，夜班增加巡视。")
    step(page, "handling", "已进入“处理”", "处理")
    assert page.locator("#case-finding").inner_text() == "属实"
    assert page.locator("#case-measure").inner_text() == "科内通报，夜班增加巡视。"
    page.locator("textarea[name=to-replied-reply]").fill("经核实属实，已整改，向您致歉。")
    step(page, "replied", "已进入“答复患者”", "答复患者")
    assert "经核实属实，已整改，向您致歉。" in page.locator("#case-reply").inner_text()
    step(page, "closed", "已进入“关闭”", "关闭")

    # C3: the re-follow-up is on the case page…
    refollow = CaseRefollow.objects.get(case=case)
    assert "待回访" in page.locator("#refollows").inner_text()
    assert "周主管" in page.locator("#refollows").inner_text()
    timeline = page.locator("#timeline").inner_text()
    assert "答复患者 → 关闭" in timeline and "已安排结案回访" in timeline

    # …and on the supervisor's own re-follow-up list, where the answer closes the loop.
    page.goto("/cases/refollows/")
    row = page.locator(f'tr[data-refollow="{refollow.pk}"]')
    assert case.number in row.inner_text() and "夜班呼叫无人应答" in row.inner_text()
    assert "孙八（BL2026）" in row.inner_text()
    row.get_by_label("满意", exact=True).check()
    row.locator(f"input[name=r{refollow.pk}-note]").fill("对处理满意")
    with page.expect_navigation():
        row.get_by_role("button", name="记录回访结果").click()
    assert f"已记录案件 {case.number} 的结案回访：满意。" in page.locator("#messages").inner_text()
    assert page.locator("#loop-closure").inner_text() == "闭环满意率 100.0%（1/1）"
    page.goto("/cases/refollows/?tab=done")
    assert "满意：对处理满意" in page.locator(f'tr[data-refollow="{refollow.pk}"]').inner_text()


@pytest.fixture
def agent_on_a_call(live_server, org, make_user):
    import datetime as dt

    from django.utils import timezone

    from careloop.accounts.roles import Role
    from careloop.cases.presets import ensure_case_presets
    from careloop.followup.calls import claim_task
    from careloop.followup.tests.uihelpers import make_policy, make_stage, make_task, make_visit

    ensure_case_presets()
    agent = make_user("agent1", Role.AGENT, departments=[org["service"]], password=PASSWORD,
                      full_name="回访员甲")  # fmt: skip
    stage = make_stage(make_policy(is_active=True))
    visit = make_visit(org["cardio"], patient_no="E2E002", name="钱九", visit_no="ZY9002",
                       discharged=timezone.now() - dt.timedelta(days=8))  # fmt: skip
    today = timezone.localdate()
    task = make_task(stage, visit, start=today - dt.timedelta(days=1))
    claim_task(task, by=agent)
    return agent, task


def test_agent_registers_a_praise_without_leaving_the_call(page, agent_on_a_call, org):
    from careloop.cases.models import Case

    _agent, task = agent_on_a_call
    login(page, "agent1", PASSWORD)
    call_path = f"/workspace/tasks/{task.pk}/call/"
    page.goto(call_path)
    box = page.locator("#case-box")
    assert not box.locator("#call-case-form").is_visible()  # collapsed by default
    box.locator("summary").click()
    form = box.locator("#call-case-form")
    form.wait_for()
    # An empty summary: the form comes back with the Chinese message, still on the call.
    form.get_by_label("表扬", exact=True).check()
    form.locator("textarea[name=description]").fill("患者说王医生很耐心。")
    form.locator("#call-case-submit").click()
    page.locator("#call-case .field-error", has_text="请填写摘要").wait_for()
    assert Case.objects.count() == 0
    form = box.locator("#call-case-form")
    form.locator("input[name=summary]").fill("表扬王医生")
    form.locator("select[name=category]").select_option(label="口头/电话表扬")
    form.locator("#call-case-submit").click()
    page.locator("#call-case-done").wait_for()
    case = Case.objects.get()
    assert (
        page.locator("#call-case-done").inner_text().startswith(f"已登记表扬，编号 {case.number}。")
    )
    assert path_of(page) == call_path
    assert (case.source, case.task_id, case.patient_id) == ("followup", task.pk, task.patient_id)
    assert list(case.departments.all()) == [org["cardio"]]

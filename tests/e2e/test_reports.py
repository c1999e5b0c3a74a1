"""E2E (R1, R5, dashboard): medical affairs opens the monthly department table from the menu,
reads a hand-computed month (careloop/reports/tests/r1_month.py), opens the list of tasks behind
回访人数 and finds exactly as many tasks as the number said; the department head of cardiology
sees only cardiology in the same table."""

from __future__ import annotations

import pytest

from tests.e2e.test_roles import login

pytestmark = pytest.mark.e2e
PASSWORD = "Report-Pass-2026!"


@pytest.fixture
def month(live_server, org, make_user):
    from careloop.accounts.roles import Role
    from careloop.reports.tests.r1_month import build_month

    agent = make_user("agent.r1", Role.AGENT, departments=[org["service"]], full_name="钱回访")
    build_month(org, agent)
    return {
        "medical": make_user("medaffairs", Role.MEDICAL_AFFAIRS, departments=[org["medical"]],
                             password=PASSWORD, full_name="李医务"),
        "head": make_user("head.xnk", Role.DEPT_HEAD, departments=[org["cardio"]],
                          password=PASSWORD, full_name="王主任"),
    }  # fmt: skip


def test_monthly_table_number_opens_the_tasks_behind_it_R1_R5(page, month, org):
    login(page, "medaffairs", PASSWORD)
    with page.expect_navigation():
        page.locator("nav a", has_text="科室月度统计").first.click()
    page.goto("/reports/monthly/?month=2026-10")
    assert "月度统计表" in page.locator("#r1-title").inner_text()
    cardio = page.locator(f'#r1-table tr[data-department="{org["cardio"].pk}"]')
    cells = cardio.locator("td")
    # 出院人数 8, 回访人数 4, 回访率 66.67% (4 of 6 due: the in-hospital death is not due).
    assert cells.nth(0).inner_text() == "8"
    assert cells.nth(1).inner_text() == "4"
    assert cells.nth(2).inner_text() == "66.67%"
    with page.expect_navigation():
        cells.nth(1).locator("a").click()
    assert page.locator("#drill-count").inner_text() == "4"
    assert page.locator("table tbody tr").count() == 4


def test_department_head_sees_only_their_department_R1_O3(page, month, org):
    login(page, "head.xnk", PASSWORD)
    page.goto("/reports/monthly/?month=2026-10")
    rows = page.locator("#r1-table tbody tr[data-department]")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-department") == str(org["cardio"].pk)
    assert org["ortho"].name not in page.locator("main").inner_text()

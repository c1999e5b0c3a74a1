"""E2E: every role signs in through the real form, sees exactly its menu, is refused (403,
无权访问) outside it and served inside it, and signs out; lockout after repeated failures; the
language switch."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

# Protected pages and the menu key that leads to each. The admin site (its own templates, no
# #logout) comes first so that the last page visited always carries the CareLoop navbar.
PAGES = {
    "admin": "/admin/",
    "audit": "/audit/",
    "jobs": "/jobs/",
    "roster": "/org/roster/",
    "departments": "/org/departments/",
    "patients": "/patients/",
    "workspace": "/workspace/",
    "homevisits": "/notify/home-visits/",
    "workload": "/workspace/workload/",
    "surveys": "/surveys/questionnaires/",
    "scripts": "/workspace/scripts/",
    "sms": "/notify/outbox/",
    "letters": "/notify/letters/",
    "tasks": "/followup/tasks/",
    "policies": "/followup/policies/",
    "calendar": "/calendar/",
    "imports": "/intake/imports/",
    "hl7": "/intake/hl7/",
    "cases": "/cases/",
    "disposal": "/cases/disposal/",
    "escalations": "/cases/escalations/",
    "monthly": "/reports/monthly/",
    "ranking": "/reports/ranking/",
    "register": "/reports/register/",
    "summaries": "/reports/summary/",
}

# Written out from careloop/core/navigation.py (MENU) and careloop/accounts/roles.py
# (ROLE_PERMISSIONS, ADMIN_SITE_ROLES): departments ← org.view_department (ORG_READ),
# roster ← org.view_rosterentry (ROSTER_READ), jobs ← jobs.view_scheduledjob,
# audit ← the auditor role, admin ← sysadmin or secadmin.
# patients ← patients.view_patient (PATIENT_READ), imports ← intake.view_importrun (IMPORT),
# hl7 ← intake.view_hl7message.
# tasks ← followup.view_followuptask, policies ← followup.view_policy (FOLLOWUP_READ),
# calendar ← calendars.view_calendarday (CALENDAR_READ).
# workspace ← followup.view_followuptask, homevisits ← the nurse or head-nurse role,
# workload ← followup.reassign_task, surveys ← surveys.change_questionnaire (SURVEY_WRITE),
# scripts ← followup.change_callscript, sms ← notify.view_outboxmessage, letters ←
# notify.print_letter (NOTIFY).
# cases ← cases.view_case (CASE_READ), disposal ← cases.view_disposalform (DISPOSAL_READ),
# escalations ← cases.view_escalation (CALL_WORK).
STAFF_MENU = {"home", "workspace", "patients", "tasks", "policies", "departments", "roster"} | {
    "cases",
    "escalations",
}
SUPERVISION = {"workload", "disposal"}
REPORTS = {"monthly", "ranking", "register"}  # R1, R4, R2 (scoped to the department)
HOSPITAL_REPORTS = REPORTS | {"summaries"}  # and R3
EXPECTED = [
    # (demo account, role slug, visible menu keys)
    ("agent1", "followup_agent", STAFF_MENU | {"disposal"}),
    ("nurse.xnk", "nurse", STAFF_MENU | {"homevisits"}),
    ("doctor.xnk", "doctor", STAFF_MENU),
    ("head.xnk", "dept_head", STAFF_MENU | SUPERVISION | REPORTS),
    ("headnurse.xnk", "head_nurse", STAFF_MENU | SUPERVISION | REPORTS | {"homevisits"}),
    (
        "supervisor",
        "service_supervisor",
        STAFF_MENU
        | SUPERVISION
        | HOSPITAL_REPORTS
        | {"calendar", "imports", "hl7", "surveys", "scripts", "sms", "letters"},
    ),
    (
        "medaffairs",
        "medical_affairs",
        STAFF_MENU | HOSPITAL_REPORTS | {"calendar", "surveys", "disposal"},
    ),
    (
        "nursingdept",
        "nursing_dept",
        STAFF_MENU | HOSPITAL_REPORTS | {"calendar", "surveys", "disposal"},
    ),
    ("consultant1", "consultant", {"home", "patients", "departments", "cases"}),
    ("dispatcher.nkz", "dispatcher", {"home", "departments", "roster"}),
    ("porter1.nkz", "porter", {"home", "departments", "roster"}),
    ("leader", "leadership", {"home", "departments", "monthly", "ranking", "summaries"}),
    (
        "sysadmin",
        "sysadmin",
        {"home", "departments", "roster", "calendar", "imports", "hl7", "jobs", "admin"},
    ),
    ("secadmin", "secadmin", {"home", "admin"}),
    ("auditor", "auditor", {"home", "audit"}),
    ("his.client", "his_client", {"home", "patients", "departments"}),
]
SCREENSHOT_OF = "nurse.xnk"
SCREENSHOT_PATH = "/tmp/e2e-home.png"


def login(page, username: str, password: str):
    """Sign in through the real form; returns the response of the page the form lands on."""
    page.goto("/accounts/login/")
    form = page.locator("main form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(password)
    with page.expect_navigation() as navigation:
        form.locator("button[type=submit]").click()
    return navigation.value


def logout(page):
    with page.expect_navigation():
        page.locator("#logout").click()


def path_of(page) -> str:
    from urllib.parse import urlsplit

    return urlsplit(page.url).path


def visible_menu(page) -> set[str]:
    """The menu keys shown in the navbar; each link must be visible and point at its page."""
    links = page.locator("#menu [data-menu]")
    keys = set()
    for i in range(links.count()):
        link = links.nth(i)
        key = link.get_attribute("data-menu")
        assert link.is_visible(), f"menu link {key} is hidden"
        assert link.get_attribute("href") == PAGES.get(key, "/"), key
        keys.add(key)
    return keys


def test_role_matrix_is_complete():
    """The table above names every role once, so a new role cannot slip past the browser test."""
    from careloop.accounts.roles import Role

    assert sorted(slug for _u, slug, _m in EXPECTED) == sorted(r.value for r in Role)


def test_every_role_sees_its_menu_and_only_its_pages(page, demo_hospital):
    password = demo_hospital
    for username, role, expected_menu in EXPECTED:
        response = login(page, username, password)
        assert response.status == 200, username
        assert path_of(page) == "/", f"{username} landed on {page.url}"
        assert page.locator(f'[data-role="{role}"]').is_visible(), username
        assert visible_menu(page) == expected_menu, username

        if username == SCREENSHOT_OF:
            page.screenshot(path=SCREENSHOT_PATH, full_page=True)

        # Every protected page: served exactly when its menu entry is shown, otherwise 403.
        for key, url in PAGES.items():
            response = page.goto(url)
            where = f"{username} {url}"
            if key in expected_menu:
                assert response.status == 200, where
                assert path_of(page) == url, f"{where} ended on {page.url}"
                if key != "admin":
                    assert page.locator(f'#menu [data-menu="{key}"].active').count() == 1, where
            else:
                assert response.status == 403, f"{where}: {response.status}"
                assert page.locator("main h1").inner_text() == "无权访问", where

        # Sign out from the last page visited (a list or the 403 page: both carry the navbar).
        logout(page)
        assert path_of(page) == "/accounts/login/", f"{username} after logout: {page.url}"
        assert page.locator("main form input[name=username]").is_visible(), username
        assert page.locator("#menu").count() == 0, username

    # Signed out for real: the home page sends the last user back to the login form.
    page.goto("/")
    assert path_of(page) == "/accounts/login/"


def test_lockout_after_five_wrong_passwords(page, live_server):
    from django.conf import settings

    from careloop.accounts.models import User

    User.objects.create_user(username="locky", password="Right-Pass-2026!", full_name="锁定测试")
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5

    for attempt in range(1, limit):
        login(page, "locky", "Wrong-Pass-0000!")
        assert path_of(page) == "/accounts/login/", attempt
        assert page.locator("main .alert-danger").is_visible(), attempt
        assert "账户已锁定" not in page.content(), attempt

    # The fifth failure locks the account (django-axes answers 429 with our lockout page).
    response = login(page, "locky", "Wrong-Pass-0000!")
    assert response.status == 429
    assert page.locator("main h1").inner_text() == "账户已锁定"

    # The right password no longer gets in while the lock lasts.
    response = login(page, "locky", "Right-Pass-2026!")
    assert response.status == 429
    assert page.locator("main h1").inner_text() == "账户已锁定"
    assert "连续 5 次登录失败" in page.locator("#locked-message").inner_text()
    assert page.locator("#menu").count() == 0
    page.goto("/")
    assert path_of(page) == "/accounts/login/"


def test_language_switch_turns_login_page_english(page, live_server):
    from django.utils import translation

    page.goto("/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("main h1").inner_text() == "登录"

    with page.expect_navigation():
        page.locator("select[name=language]").select_option("en")
    assert path_of(page) == "/accounts/login/"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("select[name=language]").input_value() == "en"

    with translation.override("en"):
        english_heading = translation.gettext("登录")
    if english_heading != "登录":  # the English catalogue is compiled and translates it
        assert english_heading == "Log in"
    assert page.locator("main h1").inner_text() == english_heading

"""Layout: Chinese by default, role-based menu, error pages in Chinese, assets served locally."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def menu_keys(html: str) -> set[str]:
    return set(re.findall(r'data-menu="([a-z0-9]+)"', html))


def test_chinese_by_default_even_with_an_english_browser():
    html = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="zh-hans">' in html
    assert "用户名" in html


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        (
            "cardio_nurse",
            {"home", "workspace", "homevisits", "patients", "tasks", "policies"}
            | {"departments", "roster", "cases", "escalations"},
        ),
        (
            "agent",
            {"home", "workspace", "patients", "tasks", "policies", "departments", "roster"}
            | {"cases", "disposal", "escalations"},
        ),
        (
            "medical_affairs",
            {"home", "workspace", "patients", "tasks", "policies", "surveys"}
            | {"departments", "roster", "calendar", "cases", "disposal", "escalations"}
            | {"monthly", "ranking", "register", "summaries"},
        ),
        ("leader", {"home", "departments", "monthly", "ranking", "summaries"}),
        ("auditor", {"home", "audit"}),
        (
            "sysadmin",
            {"home", "departments", "roster", "calendar", "imports", "hl7", "jobs", "admin"},
        ),
        ("secadmin", {"home", "admin"}),
    ],
)
def test_menu_follows_the_roles_O2(personas, persona, expected):
    client = Client()
    client.force_login(personas[persona])
    assert menu_keys(client.get("/").content.decode()) == expected


def test_anonymous_users_are_sent_to_login():
    response = Client().get("/org/roster/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_forbidden_and_missing_pages_explain_in_chinese(personas):
    client = Client()
    client.force_login(personas["cardio_nurse"])
    forbidden = client.get("/audit/")
    assert (
        forbidden.status_code == 403 and "只有审计员可以查看审计日志" in forbidden.content.decode()
    )
    missing = client.get("/org/roster/999999/")
    assert missing.status_code == 404 and "不在您可查看的科室范围内" in missing.content.decode()
    admin = client.get("/admin/")
    assert admin.status_code == 403


def test_pages_use_only_local_assets(personas):
    client = Client()
    client.force_login(personas["agent"])
    html = client.get("/").content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(not u.startswith(("http://", "https://", "//")) for u in urls)
    assert "/static/vendor/htmx/htmx.min.js" in html


def test_htmx_filter_returns_only_the_table_partial(personas):
    client = Client()
    client.force_login(personas["agent"])
    full = client.get("/org/departments/").content.decode()
    partial = client.get(
        "/org/departments/", {"q": "骨科"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<nav" in full and "<nav" not in partial
    assert "骨科病区" in partial and "心血管内科病区" not in partial


def test_empty_state_is_shown(personas):
    client = Client()
    client.force_login(personas["agent"])
    html = client.get("/org/departments/", {"q": "不存在的科室"}).content.decode()
    assert "没有符合条件的科室。" in html


def test_healthz():
    assert Client().get("/healthz").json() == {"status": "ok"}

"""S1: lockout, session id rotation, idle timeout, absolute session limit, TOTP."""

from __future__ import annotations

import datetime as dt
from urllib.parse import unquote

import pyotp
import pytest
import time_machine
from django.test import Client

from careloop.accounts.roles import Role
from careloop.audit.models import AuditEvent
from conftest import PASSWORD

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


def login(client, username, password=PASSWORD, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def test_five_failures_lock_the_account_for_30_minutes_S1(personas):
    client = Client()
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(4):
            response = login(client, "agent1", "wrong-password")
            assert response.status_code == 200
            assert "用户名或密码错误" in response.content.decode()
        response = login(client, "agent1", "wrong-password")
        assert response.status_code == 429
        assert "账户已锁定" in response.content.decode()
        assert "请在 30 分钟后再试" in response.content.decode()
        # Locked: even the right password is refused, and no session is created.
        response = login(client, "agent1")
        assert response.status_code == 429
        assert "_auth_user_id" not in client.session
        clock.shift(dt.timedelta(minutes=29))
        assert login(client, "agent1").status_code == 429
        clock.shift(dt.timedelta(minutes=2))
        response = login(client, "agent1")
        assert response.status_code == 302
        assert client.session["_auth_user_id"] == str(personas["agent"].pk)
    # Five wrong passwords, then two right ones refused while locked (09:00 and 09:29).
    assert AuditEvent.objects.filter(action="login_failed", actor_name="agent1").count() == 7
    assert AuditEvent.objects.filter(action="locked_out", actor_name="agent1").count() >= 1


def test_four_failures_then_success_resets_the_count_S1(personas):
    client = Client()
    for _ in range(4):
        login(client, "agent1", "wrong-password")
    assert login(client, "agent1").status_code == 302
    client.post("/accounts/logout/")
    for _ in range(4):
        assert login(client, "agent1", "wrong-password").status_code == 200
    assert login(client, "agent1").status_code == 302


def test_session_id_changes_at_login_S1(personas):
    client = Client()
    client.get("/accounts/login/")
    session = client.session
    session["anonymous_marker"] = "x"
    session.save()
    before = session.session_key
    assert login(client, "agent1").status_code == 302
    after = client.session.session_key
    assert before and after and before != after


def test_idle_timeout_after_30_minutes_S1(personas):
    client = Client()
    with time_machine.travel(START, tick=False) as clock:
        login(client, "nurse.xnk")
        assert client.get("/").status_code == 200
        clock.shift(dt.timedelta(minutes=29))
        assert client.get("/").status_code == 200  # activity resets the idle clock
        clock.shift(dt.timedelta(minutes=29))
        assert client.get("/").status_code == 200
        clock.shift(dt.timedelta(minutes=31))
        response = client.get("/org/roster/")
        assert response.status_code == 302
        assert unquote(response["Location"]) == "/accounts/login/?next=/org/roster/"
        assert "_auth_user_id" not in client.session
        page = client.get(response["Location"]).content.decode()
        assert "无操作" in page


def test_absolute_session_limit_S1(personas, settings):
    settings.SESSION_MAX_HOURS = 12
    client = Client()
    with time_machine.travel(START, tick=False) as clock:
        login(client, "nurse.xnk")
        for _ in range(12 * 4 + 1):  # busy all day, never idle for 30 minutes
            clock.shift(dt.timedelta(minutes=15))
            if client.get("/").status_code != 200:
                break
        assert client.get("/").status_code == 302
        assert "_auth_user_id" not in client.session


def test_totp_is_asked_after_the_password_and_checked_S1(personas):
    user = personas["agent"]
    secret = pyotp.random_base32()
    user.totp_secret = secret
    user.totp_enabled = True
    user.save()
    client = Client()
    response = login(client, "agent1")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/totp/"
    assert "_auth_user_id" not in client.session  # not logged in before the second factor
    response = client.post(
        "/accounts/login/totp/",
        {"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"},
    )
    assert response.status_code == 200
    assert "动态口令不正确" in response.content.decode()
    assert "_auth_user_id" not in client.session
    response = client.post("/accounts/login/totp/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_five_wrong_totp_codes_restart_the_login_S1(personas):
    user = personas["agent"]
    user.totp_secret = pyotp.random_base32()
    user.totp_enabled = True
    user.save()
    client = Client()
    login(client, "agent1")
    wrong = "123456" if pyotp.TOTP(user.totp_secret).now() != "123456" else "654321"
    for _ in range(4):
        assert client.post("/accounts/login/totp/", {"code": wrong}).status_code == 200
    response = client.post("/accounts/login/totp/", {"code": wrong})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert client.get("/accounts/login/totp/")["Location"] == "/accounts/login/"


def test_mandatory_totp_for_admin_roles_S1(personas, settings):
    settings.TOTP_REQUIRED_FOR_ADMINS = True
    client = Client()
    client.force_login(personas["sysadmin"])
    response = client.get("/org/departments/")
    assert response.status_code == 302 and response["Location"] == "/accounts/totp/"
    # A non-admin role is not forced.
    client.force_login(personas["agent"])
    assert client.get("/org/departments/").status_code == 200


def test_totp_enrolment_confirms_a_code_before_enabling_S1(personas):
    user = personas["agent"]
    client = Client()
    client.force_login(user)
    page = client.get("/accounts/totp/")
    secret = page.context["secret"]
    assert "<svg" in page.content.decode()
    assert client.post("/accounts/totp/", {"code": "12"}).status_code == 200
    user.refresh_from_db()
    assert not user.totp_enabled
    client.post("/accounts/totp/", {"code": pyotp.TOTP(secret).now()})
    user.refresh_from_db()
    assert user.totp_enabled and user.totp_secret == secret


def test_roles_of_the_three_admin_duties_cannot_be_combined_O3():
    from careloop.accounts.roles import role_conflicts

    assert role_conflicts([Role.SYSADMIN, Role.AUDITOR]) == [
        "三员分立：系统管理员、审计员 不能由同一人兼任"
    ]
    assert role_conflicts([Role.SYSADMIN, Role.NURSE]) == []

"""S1 password rules: 8 characters, three classes, the last 5 not reused, changed every 90 days."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("Ab1!", False),  # too short
        ("abcdefgh12", False),  # two classes
        ("ABCDEFGH!!", False),  # two classes
        ("Qwerty7yu", True),  # lower, upper, digit
        ("wx-9vbq#2m", True),  # lower, digit, symbol
    ],
)
def test_length_and_character_classes_S1(password, ok):
    if ok:
        validate_password(password)
    else:
        with pytest.raises(ValidationError):
            validate_password(password)


def test_last_five_passwords_are_not_reused_S1(personas):
    user = personas["agent"]
    history = [PASSWORD, "Second-pw-1", "Third-pw-2", "Fourth-pw-3", "Fifth-pw-4"]
    for pw in history[1:]:
        user.set_password(pw)
        user.save()
    for pw in history:
        with pytest.raises(ValidationError) as info:
            validate_password(pw, user)
        assert "最近 5 次" in str(info.value)
    user.set_password("Sixth-pw-5")
    user.save()
    # The first password has now dropped out of the last five.
    validate_password(PASSWORD, user)
    assert user.password_history.count() == 5


def test_password_expires_after_90_days_S1(personas):
    user = personas["agent"]
    now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(now, tick=False) as clock:
        user.set_password("Fresh-pass-1")
        user.save()
        client = Client()
        client.force_login(user)
        clock.shift(dt.timedelta(days=89))
        client.force_login(user)  # a new session each day; the password age is what counts
        assert client.get("/org/departments/").status_code == 200
        clock.shift(dt.timedelta(days=2))
        client.force_login(user)
        response = client.get("/org/departments/")
        assert response.status_code == 302 and response["Location"] == "/accounts/password/"
        response = client.post(
            "/accounts/password/",
            {
                "old_password": "Fresh-pass-1",
                "new_password1": "Newer-pass-2",
                "new_password2": "Newer-pass-2",
            },
        )
        assert response.status_code == 302
        assert client.get("/org/departments/").status_code == 200


def test_changing_to_a_reused_password_is_refused_in_chinese_S1(personas):
    client = Client()
    client.force_login(personas["agent"])
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    assert response.status_code == 200
    assert "新密码不能与最近 5 次使用过的密码相同" in response.content.decode()

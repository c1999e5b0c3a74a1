"""三员分立 in the account administration (O3): who may assign roles, unlock, and edit whom."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group
from django.test import Client

from careloop.accounts.roles import Role
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def admin_client(user):
    client = Client()
    client.force_login(user)
    return client


def change_form(user, **overrides):
    data = {
        "username": user.username,
        "full_name": user.full_name,
        "staff_no": user.staff_no or "",
        "title": user.title,
        "phone": "",
        "email": "",
        "departments": [d.pk for d in user.departments.all()],
        "is_active": "on",
        "groups": [g.pk for g in user.groups.all()],
    }
    data.update(overrides)
    return data


def test_sysadmin_edits_profiles_but_cannot_assign_roles_O3(personas):
    nurse = personas["cardio_nurse"]
    auditor_group = Group.objects.get(name=Role.AUDITOR)
    client = admin_client(personas["sysadmin"])
    response = client.post(
        f"/admin/accounts/user/{nurse.pk}/change/",
        change_form(nurse, title="主管护师", groups=[auditor_group.pk]),
    )
    assert response.status_code == 302
    nurse.refresh_from_db()
    assert nurse.title == "主管护师"
    assert list(nurse.groups.values_list("name", flat=True)) == [Role.NURSE]


def test_secadmin_assigns_roles_but_not_their_own_O3(personas):
    nurse = personas["cardio_nurse"]
    head_nurse = Group.objects.get(name=Role.HEAD_NURSE)
    client = admin_client(personas["secadmin"])
    groups = [*nurse.groups.values_list("pk", flat=True), head_nurse.pk]
    assert (
        client.post(
            f"/admin/accounts/user/{nurse.pk}/change/", change_form(nurse, groups=groups)
        ).status_code
        == 302
    )
    assert set(nurse.groups.values_list("name", flat=True)) == {Role.NURSE, Role.HEAD_NURSE}
    me = personas["secadmin"]
    sys_group = Group.objects.get(name=Role.SYSADMIN)
    client.post(f"/admin/accounts/user/{me.pk}/change/", change_form(me, groups=[sys_group.pk]))
    assert list(me.groups.values_list("name", flat=True)) == [Role.SECADMIN]


def test_the_three_admin_duties_cannot_be_combined_O3(personas):
    sysadmin = personas["sysadmin"]
    client = admin_client(personas["secadmin"])
    groups = [Group.objects.get(name=Role.SYSADMIN).pk, Group.objects.get(name=Role.AUDITOR).pk]
    response = client.post(
        f"/admin/accounts/user/{sysadmin.pk}/change/", change_form(sysadmin, groups=groups)
    )
    assert response.status_code == 200
    assert "三员分立：系统管理员、审计员 不能由同一人兼任" in response.content.decode()
    assert list(sysadmin.groups.values_list("name", flat=True)) == [Role.SYSADMIN]


def test_secadmin_unlocks_a_locked_account_S1(personas):
    for _ in range(5):
        Client().post("/accounts/login/", {"username": "agent1", "password": "wrong"})
    assert (
        Client().post("/accounts/login/", {"username": "agent1", "password": PASSWORD}).status_code
        == 429
    )
    client = admin_client(personas["secadmin"])
    response = client.post(
        "/admin/accounts/user/",
        {"action": "unlock_accounts", "_selected_action": [personas["agent"].pk]},
    )
    assert response.status_code == 302
    assert AccessAttempt.objects.count() == 0
    assert (
        Client().post("/accounts/login/", {"username": "agent1", "password": PASSWORD}).status_code
        == 302
    )


def test_nobody_deletes_accounts_in_the_admin(personas):
    client = admin_client(personas["sysadmin"])
    assert client.get(f"/admin/accounts/user/{personas['agent'].pk}/delete/").status_code == 403


def test_auditor_and_nurse_cannot_enter_the_admin_site(personas):
    for persona in ("auditor", "cardio_nurse", "leader"):
        assert admin_client(personas[persona]).get("/admin/accounts/user/").status_code == 403

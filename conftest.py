"""Shared fixtures: named personas whose rights differ (CONVENTIONS: tests)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "Test-Pass-2026!"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    # PBKDF2 at Django's default cost takes ~0.3 s per login; the rules under test are not the hash.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path_factory):
    # Uploaded files (case attachments) go to a directory of the test's own, never var/media.
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))


@pytest.fixture
def org(db):
    """Departments of the demo hospital that the scope tests compare."""
    from careloop.accounts.roles import sync_role_groups
    from careloop.org.choices import DepartmentKind
    from careloop.org.models import Department

    sync_role_groups()
    return {
        "cardio": Department.objects.create(
            code="XNK", name="心血管内科病区", kind=DepartmentKind.INPATIENT
        ),
        "ortho": Department.objects.create(
            code="GK", name="骨科病区", kind=DepartmentKind.INPATIENT
        ),
        "service": Department.objects.create(
            code="KFZX", name="客服中心", kind=DepartmentKind.FUNCTIONAL
        ),
        "medical": Department.objects.create(
            code="YWK", name="医务科", kind=DepartmentKind.FUNCTIONAL
        ),
    }


@pytest.fixture
def make_user(db):
    from django.contrib.auth.models import Group

    from careloop.accounts.models import User

    def make(username, *roles, departments=(), password=PASSWORD, **extra):
        user = User.objects.create_user(
            username=username,
            password=password,
            full_name=extra.pop("full_name", username),
            **extra,
        )
        user.groups.set([Group.objects.get(name=r) for r in roles])
        user.departments.set(departments)
        return User.objects.get(pk=user.pk)

    return make


@pytest.fixture
def personas(org, make_user):
    from careloop.accounts.roles import Role

    return {
        "cardio_nurse": make_user("nurse.xnk", Role.NURSE, departments=[org["cardio"]]),
        "ortho_nurse": make_user("nurse.gk", Role.NURSE, departments=[org["ortho"]]),
        "agent": make_user("agent1", Role.AGENT, departments=[org["service"]]),
        "dept_head": make_user("head.xnk", Role.DEPT_HEAD, departments=[org["cardio"]]),
        "medical_affairs": make_user(
            "medaffairs", Role.MEDICAL_AFFAIRS, departments=[org["medical"]]
        ),
        "leader": make_user("leader", Role.LEADERSHIP),
        "auditor": make_user("auditor", Role.AUDITOR),
        "sysadmin": make_user("sysadmin", Role.SYSADMIN),
        "secadmin": make_user("secadmin", Role.SECADMIN),
    }

"""O3 for reports: whose numbers each persona may see (a department head only their own)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from careloop.accounts.roles import Role
from careloop.reports.scope import EXPORT, REFRESH, SUMMARY, VIEW, department_ids, narrow


@pytest.fixture
def more(personas, org, make_user):
    return {
        **personas,
        "head_nurse": make_user("headnurse.xnk", Role.HEAD_NURSE, departments=[org["cardio"]]),
        "ortho_head": make_user("head.gk", Role.DEPT_HEAD, departments=[org["ortho"]]),
        "two_wards_head": make_user(
            "head.two", Role.DEPT_HEAD, departments=[org["cardio"], org["ortho"]]
        ),
        "supervisor": make_user("supervisor", Role.SUPERVISOR, departments=[org["service"]]),
        "nursing_dept": make_user("hlb", Role.NURSING_DEPT),
        "doctor": make_user("doctor.xnk", Role.DOCTOR, departments=[org["cardio"]]),
        "inactive_head": make_user(
            "head.old", Role.DEPT_HEAD, departments=[org["cardio"]], is_active=False
        ),
        "inactive_leader": make_user("leader.old", Role.LEADERSHIP, is_active=False),
        "nobody": make_user("norole"),
    }


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("dept_head", ["cardio"]),
        ("head_nurse", ["cardio"]),
        ("ortho_head", ["ortho"]),
        ("two_wards_head", ["cardio", "ortho"]),
        ("medical_affairs", None),
        ("leader", None),
        ("supervisor", None),
        ("nursing_dept", None),
        # no report permission: nothing, even for the whole-hospital agent
        ("agent", []),
        ("cardio_nurse", []),
        ("ortho_nurse", []),
        ("doctor", []),
        ("auditor", []),
        ("sysadmin", []),
        ("secadmin", []),
        ("nobody", []),
        # inactive accounts see nothing whatever their roles
        ("inactive_head", []),
        ("inactive_leader", []),
    ],
)
def test_department_ids_per_persona_O3(more, org, persona, expected):
    got = department_ids(more[persona])
    if expected is None:
        assert got is None
    else:
        assert sorted(got) == sorted(org[d].pk for d in expected)


def test_anonymous_and_missing_users_see_nothing_O3(db):
    assert department_ids(AnonymousUser()) == []
    assert department_ids(None) == []


def test_a_direct_permission_without_a_department_role_gives_nothing_O3(make_user, org):
    from django.contrib.auth.models import Permission

    user = make_user("odd", departments=[org["cardio"]])
    user.user_permissions.add(Permission.objects.get(codename="view_monthlysnapshot"))
    user = type(user).objects.get(pk=user.pk)
    assert user.has_perm(VIEW)
    assert department_ids(user) == []  # no role → no scope


@pytest.mark.parametrize(
    ("persona", "perms"),
    [
        ("dept_head", {VIEW, EXPORT}),
        ("head_nurse", {VIEW, EXPORT}),
        ("medical_affairs", {VIEW, EXPORT, REFRESH, SUMMARY}),
        ("supervisor", {VIEW, EXPORT, REFRESH, SUMMARY}),
        ("nursing_dept", {VIEW, EXPORT, REFRESH, SUMMARY}),
        ("leader", {VIEW, EXPORT, SUMMARY}),
        ("agent", set()),
        ("cardio_nurse", set()),
        ("auditor", set()),
    ],
)
def test_report_permissions_per_role_R1(more, persona, perms):
    user = more[persona]
    assert {p for p in (VIEW, EXPORT, REFRESH, SUMMARY) if user.has_perm(p)} == perms


def test_leadership_never_holds_patient_permissions_R3(more):
    leader = more["leader"]
    assert not leader.has_perm("patients.view_patient")
    assert not leader.has_perm("followup.view_followuptask")


@pytest.mark.parametrize(
    ("requested", "allowed", "expected"),
    [
        (None, None, None),  # everything asked, everything allowed
        ([1, 2], None, [1, 2]),
        ([], None, []),
        (None, [1], [1]),  # a department head asking for "all" gets their own
        (None, [], []),
        ([1, 2], [2, 3], [2]),  # never more than allowed
        ([4], [2, 3], []),  # another department: nothing, not an error
        ([3, 2], [2, 3], [3, 2]),  # the order asked for is kept
        ([], [2], []),
    ],
)
def test_narrow_O3(requested, allowed, expected):
    assert narrow(requested, allowed) == expected


def test_narrow_returns_a_copy_of_allowed_O3():
    allowed = [1]
    got = narrow(None, allowed)
    got.append(2)
    assert allowed == [1]


def test_department_heads_figures_only_their_department_O3(more, org, october):
    """The scope applied to the statistics core: the cardiology head's R1 has cardiology only,
    and asking for orthopaedics gives nothing."""
    import datetime as dt

    from careloop.reports.periods import month
    from careloop.reports.queries import department_figures, drill_tasks

    today = dt.date(2026, 11, 5)
    oct_ = month(2026, 10)
    allowed = department_ids(more["dept_head"])
    figures = department_figures(oct_, departments=narrow(None, allowed), today=today)
    assert set(figures) == {org["cardio"].pk}
    asked_ortho = narrow([org["ortho"].pk], allowed)
    assert department_figures(oct_, departments=asked_ortho, today=today) == {}
    assert not drill_tasks(oct_, "completed", departments=asked_ortho, today=today).exists()
    # whole hospital for medical affairs
    everyone = department_ids(more["medical_affairs"])
    assert set(department_figures(oct_, departments=everyone, today=today)) == {
        org["cardio"].pk,
        org["ortho"].pk,
    }
    # no permission: the empty list, so nothing at all (never None = everything)
    nothing = department_ids(more["agent"])
    assert department_figures(oct_, departments=nothing, today=today) == {}

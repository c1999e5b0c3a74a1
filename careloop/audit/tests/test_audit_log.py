"""S2: what is recorded, who may read it, and that nobody can change it."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from python_calamine import CalamineWorkbook

from careloop.audit.models import AppendOnlyError, AuditEvent
from careloop.org.models import Department
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_logout_and_failed_login_are_recorded_S2(personas):
    client = Client(REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT="WardPC/1.0")
    client.post("/accounts/login/", {"username": "agent1", "password": "nope"})
    client.post("/accounts/login/", {"username": "agent1", "password": PASSWORD})
    client.post("/accounts/logout/")
    events = list(AuditEvent.objects.filter(actor_name="agent1").order_by("pk"))
    assert [e.action for e in events] == ["login_failed", "login", "logout"]
    assert {e.ip for e in events} == {"10.1.2.3"}
    assert events[1].actor_id == personas["agent"].pk
    assert events[1].user_agent == "WardPC/1.0"


def test_changes_record_before_and_after_with_encrypted_fields_masked_S2(personas):
    client = Client()
    client.force_login(personas["sysadmin"])
    user = personas["agent"]
    user.phone = "13812345678"
    user.title = "回访员"
    user.save()
    user.phone = "13900001111"
    user.save()
    update = AuditEvent.objects.filter(
        action="update", object_type="accounts.user", object_id=str(user.pk)
    ).latest("pk")
    assert update.changes["phone"] == ["138****5678", "139****1111"]
    assert "password" not in update.changes
    with connection.cursor() as cursor:
        cursor.execute("SELECT changes FROM audit_auditevent")
        raw = " ".join(str(row[0]) for row in cursor.fetchall())
    assert "13812345678" not in raw and "13900001111" not in raw


def test_department_create_update_delete_are_recorded_with_actor_S2(personas):
    from careloop.audit.context import Actor, acting_as

    with acting_as(Actor(name="system:test")):
        dept = Department.objects.create(code="EK", name="儿科病区", kind="inpatient")
        dept_pk = dept.pk
        dept.name = "儿科一病区"
        dept.save()
        dept.delete()
    events = list(
        AuditEvent.objects.filter(object_type="org.department", object_id=str(dept_pk)).order_by(
            "pk"
        )
    )
    assert [e.action for e in events] == ["create", "update", "delete"]
    assert events[1].changes == {"name": ["儿科病区", "儿科一病区"]}
    assert {e.actor_name for e in events} == {"system:test"}


def test_auditor_reads_searches_and_exports_S2(personas):
    Client().post("/accounts/login/", {"username": "nurse.xnk", "password": "bad"})
    client = Client()
    client.force_login(personas["auditor"])
    page = client.get("/audit/", {"action": "login_failed"})
    assert page.status_code == 200
    assert page.context["page_obj"].paginator.count == 1
    response = client.get("/audit/export/", {"action": "login_failed", "format": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["时间", "操作人账号", "操作"]
    assert [r[1:3] for r in rows[1:]] == [["nurse.xnk", "登录失败"]]
    response = client.get("/audit/export/", {"format": "xlsx"})
    data = b"".join(response.streaming_content)
    with open("/tmp/_audit_test.xlsx", "wb") as fh:
        fh.write(data)
    sheet = (
        CalamineWorkbook.from_path("/tmp/_audit_test.xlsx")
        .get_sheet_by_name("审计日志")
        .to_python()
    )
    assert sheet[0][1] == "操作人账号"
    # Every event, including this export's own, which is written before the rows are read.
    assert len(sheet) - 1 == AuditEvent.objects.count()
    # The exports themselves are audited.
    assert AuditEvent.objects.filter(action="export", actor_name="auditor").count() == 2


@pytest.mark.parametrize("persona", ["sysadmin", "secadmin", "medical_affairs", "agent"])
def test_nobody_but_the_auditor_reads_the_log_S2(personas, persona):
    client = Client()
    client.force_login(personas[persona])
    before = AuditEvent.objects.exclude(action="access_denied").count()
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export/", {"format": "csv"}).status_code == 403
    assert AuditEvent.objects.exclude(action="access_denied").count() == before
    assert (
        AuditEvent.objects.filter(
            action="access_denied", actor_name=personas[persona].username
        ).count()
        == 2
    )


def test_superuser_flag_does_not_open_the_log_S2(make_user, org):
    root = make_user("root", is_superuser=True, is_staff=True)
    client = Client()
    client.force_login(root)
    assert client.get("/audit/").status_code == 403


def test_the_log_is_append_only_for_the_orm_S2(personas):
    event = AuditEvent.objects.create(action="view", actor_name="x", message="original")
    event.message = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(message="changed")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).message == "original"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET message = 'changed'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent",
    ],
)
def test_the_log_is_append_only_in_the_database_S2(personas, statement):
    if statement.startswith("TRUNCATE") and connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    AuditEvent.objects.create(action="view", actor_name="x", message="original")
    count = AuditEvent.objects.count()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert AuditEvent.objects.count() == count
    assert AuditEvent.objects.filter(message="original").count() == 1

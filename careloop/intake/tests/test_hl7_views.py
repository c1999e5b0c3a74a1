"""P4.2 pages: the searchable message log and the dead-letter actions (retry, discard), with
the personas whose rights differ — and a check that every refusal changed nothing (O3, S2, P3).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from careloop.audit.models import AuditEvent
from careloop.intake.hl7 import samples
from careloop.intake.hl7.processing import process_message
from careloop.intake.models import HL7Message
from careloop.intake.tests.factories import ID_ZHANG
from careloop.org.choices import DepartmentKind
from careloop.org.models import Department
from careloop.patients.models import Patient, Visit

pytestmark = pytest.mark.django_db
adt = samples.adt


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def log(org):
    """Two applied messages, a duplicate and a dead letter (unknown department)."""
    process_message(adt("A01", control_id="OK-1", patient_no="P1", visit_no="Z1"))
    process_message(adt("A03", control_id="OK-2", patient_no="P1", visit_no="Z1",
                        discharged="20260310093000", disposition="1"))  # fmt: skip
    process_message(adt("A01", control_id="OK-1", patient_no="P1", visit_no="Z1"))
    process_message(
        adt("A01", control_id="BAD-1", patient_no="P2", visit_no="Z2", department="NEW",
            phones="13812345678", id_number=ID_ZHANG)
    )  # fmt: skip
    return {m.control_id + ":" + m.status: m for m in HL7Message.objects.all()}


def listed(response) -> list[str]:
    return [m.control_id for m in response.context["page_obj"]]


def state():
    return (
        list(HL7Message.objects.order_by("pk").values_list("status", "attempts")),
        Patient.objects.count(),
        Visit.objects.count(),
    )


def test_the_log_lists_every_message_and_filters_P4(personas, log):
    client = client_for(personas["sysadmin"])
    url = reverse("intake:hl7message_list")
    assert url == "/intake/hl7/"
    assert sorted(listed(client.get(url))) == ["BAD-1", "OK-1", "OK-1", "OK-2"]
    assert listed(client.get(url, {"status": "failed"})) == ["BAD-1"]
    assert listed(client.get(url, {"status": "duplicate"})) == ["OK-1"]
    assert listed(client.get(url, {"message_type": "ADT^A03"})) == ["OK-2"]
    assert sorted(listed(client.get(url, {"control_id": "ok-"}))) == ["OK-1", "OK-1", "OK-2"]
    assert listed(client.get(url, {"patient_no": "P2"})) == ["BAD-1"]
    today = dt.date.today()
    assert len(listed(client.get(url, {"date_from": today, "date_to": today}))) == 4
    assert listed(client.get(url, {"date_to": today - dt.timedelta(days=1)})) == []
    partial = client.get(url, {"status": "failed"}, headers={"HX-Request": "true"})
    assert partial.templates[0].name == "intake/hl7message_results.html"


def test_the_log_is_paginated(personas, org):
    for i in range(55):
        process_message(b"not hl7 %d" % i)
    response = client_for(personas["sysadmin"]).get("/intake/hl7/")
    assert (len(listed(response)), response.context["page_obj"].paginator.num_pages) == (50, 2)
    second = client_for(personas["sysadmin"]).get("/intake/hl7/", {"page": 2})
    assert len(listed(second)) == 5


def test_nurse_is_refused_every_page_and_action_and_nothing_changes(personas, log):
    client = client_for(personas["cardio_nurse"])
    bad = log["BAD-1:failed"]
    before = state()
    assert client.get("/intake/hl7/").status_code == 403
    assert client.get(f"/intake/hl7/{bad.pk}/").status_code == 403
    assert client.post(f"/intake/hl7/{bad.pk}/retry/").status_code == 403
    assert client.post(f"/intake/hl7/{bad.pk}/discard/").status_code == 403
    assert state() == before


def test_supervisor_reads_but_cannot_retry_or_discard(personas, make_user, org, log):
    from careloop.accounts.roles import Role

    supervisor = make_user("supervisor", Role.SUPERVISOR)
    client = client_for(supervisor)
    bad = log["BAD-1:failed"]
    assert client.get("/intake/hl7/").status_code == 200
    page = client.get(f"/intake/hl7/{bad.pk}/")
    assert page.status_code == 200 and 'id="retry"' not in page.content.decode()
    before = state()
    assert client.post(f"/intake/hl7/{bad.pk}/retry/").status_code == 403
    assert client.post(f"/intake/hl7/{bad.pk}/discard/").status_code == 403
    assert state() == before


def test_detail_shows_one_segment_per_line_masked_and_is_audited_P3_S2(
    personas, make_user, org, log
):
    from careloop.accounts.roles import Role

    bad = log["BAD-1:failed"]
    admin = personas["sysadmin"]
    page = client_for(admin).get(f"/intake/hl7/{bad.pk}/").content.decode()
    raw = page.split('id="raw">')[1].split("</pre>")[0]
    lines = raw.strip().split("\n")
    assert [line[:3] for line in lines] == ["MSH", "EVN", "PID", "PV1", "DG1"]
    assert "138****5678" in raw and "13812345678" not in raw
    assert "1101**********002X" in raw and ID_ZHANG not in raw
    assert "PV1-3 科室“NEW”不存在" in page
    assert 'id="retry"' in page and 'id="discard"' in page
    assert 'id="reveal"' not in page  # the system admin may not reveal patient data
    assert client_for(admin).get(f"/intake/hl7/{bad.pk}/?reveal=1").content.decode().count(
        "13812345678") == 0  # fmt: skip
    viewed = AuditEvent.objects.filter(object_type="intake.hl7message", object_id=str(bad.pk))
    assert list(viewed.values_list("action", "actor")) == [("view", admin.pk), ("view", admin.pk)]

    supervisor = make_user("supervisor", Role.SUPERVISOR)
    revealed = client_for(supervisor).get(f"/intake/hl7/{bad.pk}/?reveal=1").content.decode()
    assert "13812345678" in revealed and ID_ZHANG in revealed
    assert viewed.filter(action="reveal", actor=supervisor).count() == 1


def test_retry_applies_a_dead_letter_once_its_cause_is_fixed_and_is_audited(personas, log):
    bad = log["BAD-1:failed"]
    client = client_for(personas["sysadmin"])
    assert client.get(f"/intake/hl7/{bad.pk}/retry/").status_code == 405  # POST only

    response = client.post(f"/intake/hl7/{bad.pk}/retry/", follow=True)
    assert "重试仍失败：PV1-3 科室“NEW”不存在" in response.content.decode()
    bad.refresh_from_db()
    assert (bad.status, bad.attempts) == ("failed", 2)
    assert Patient.objects.filter(patient_no="P2").count() == 0

    Department.objects.create(code="NEW", name="新病区", kind=DepartmentKind.INPATIENT)
    response = client.post(f"/intake/hl7/{bad.pk}/retry/", follow=True)
    assert "重试成功，消息已处理。" in response.content.decode()
    bad.refresh_from_db()
    assert (bad.status, bad.ack_code, bad.error, bad.attempts) == ("applied", "AA", "", 3)
    assert Visit.objects.get(visit_no="Z2").department.code == "NEW"
    events = AuditEvent.objects.filter(
        object_type="intake.hl7message", object_id=str(bad.pk), action="update"
    ).order_by("pk")
    assert [e.changes for e in events] == [
        {"status": ["failed", "failed"]},
        {"status": ["failed", "applied"]},
    ]
    assert all(e.actor == personas["sysadmin"] for e in events)
    # An applied message is no longer a dead letter: a second retry is refused.
    response = client.post(f"/intake/hl7/{bad.pk}/retry/", follow=True)
    assert "该消息已不是失败状态，无法重试。" in response.content.decode()


def test_discard_closes_a_dead_letter_and_a_resend_is_then_ignored(personas, log):
    bad = log["BAD-1:failed"]
    client = client_for(personas["sysadmin"])
    response = client.post(f"/intake/hl7/{bad.pk}/discard/", {"note": "测试数据"}, follow=True)
    assert "已丢弃该消息。" in response.content.decode()
    bad.refresh_from_db()
    assert bad.status == "discarded"
    event = AuditEvent.objects.get(
        object_type="intake.hl7message", object_id=str(bad.pk), action="update"
    )
    assert event.changes == {"status": ["failed", "discarded"]}
    assert event.message == "丢弃 HL7 死信 BAD-1：测试数据"
    assert 'id="retry"' not in client.get(f"/intake/hl7/{bad.pk}/").content.decode()
    # The HIS sends it again: acknowledged, not applied.
    Department.objects.create(code="NEW", name="新病区", kind=DepartmentKind.INPATIENT)
    ack = process_message(bad.raw)
    assert (ack.code, ack.status) == ("AA", "duplicate")
    assert Patient.objects.filter(patient_no="P2").count() == 0

"""F2 home visits: the responsible nurse sees the address only by an audited reveal."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from careloop.accounts.roles import Role
from careloop.audit.models import AuditEvent
from careloop.followup.tests.uihelpers import (
    client_for,
    make_policy,
    make_stage,
    make_task,
    make_visit,
)

pytestmark = pytest.mark.django_db
ADDRESS = "杭州市西湖区文三路 90 号 2 幢 1201"


@pytest.fixture
def visit_task(org, personas):
    stage = make_stage(
        make_policy(), code="home", name="特殊病人上门回访", channel="home_visit",
        assignee_role="responsible_nurse",
    )  # fmt: skip
    visit = make_visit(org["cardio"], patient_no="H1", name="上官婉儿", visit_no="ZH1")
    visit.patient.address = ADDRESS
    visit.patient.sex = "2"
    visit.patient.save()
    return make_task(stage, visit, assignee=personas["cardio_nurse"])


def reveals():
    return AuditEvent.objects.filter(action="reveal")


def test_responsible_nurse_reveals_the_address_audited(visit_task, personas):
    nurse = personas["cardio_nurse"]
    client = client_for(nurse)
    page = client.get("/notify/home-visits/").content.decode()
    assert "上官婉儿" in page and ADDRESS not in page
    assert not reveals().exists()
    response = client.post(f"/notify/home-visits/{visit_task.pk}/reveal/")
    assert response.status_code == 200 and ADDRESS in response.content.decode()
    event = reveals().get()
    assert event.actor_id == nurse.pk
    assert event.object_type == "patients.patient"
    assert event.object_id == str(visit_task.patient_id)


def test_visit_sheet_pdf_has_blanks_and_is_audited(visit_task, personas):
    client = client_for(personas["cardio_nurse"])
    response = client.get(f"/notify/home-visits/{visit_task.pk}/sheet/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    for word in ("上官婉儿", ADDRESS, "目前病情", "用药情况", "康复情况", "意见建议", "患者签名"):
        assert word in text
    assert reveals().count() == 1


def test_other_nurse_of_the_ward_gets_nothing(visit_task, make_user, org):
    other = make_user("nurse2.xnk", Role.NURSE, departments=[org["cardio"]])
    client = client_for(other)
    assert "上官婉儿" not in client.get("/notify/home-visits/").content.decode()
    assert client.post(f"/notify/home-visits/{visit_task.pk}/reveal/").status_code == 404
    assert client.get(f"/notify/home-visits/{visit_task.pk}/sheet/").status_code == 404
    assert not reveals().exists()


def test_nurse_of_another_ward_gets_nothing_O3(visit_task, personas):
    client = client_for(personas["ortho_nurse"])
    assert client.post(f"/notify/home-visits/{visit_task.pk}/reveal/").status_code == 404
    assert not reveals().exists()


def test_head_nurse_sees_the_ward_and_may_reveal(visit_task, make_user, org):
    head = make_user("hn.xnk", Role.HEAD_NURSE, departments=[org["cardio"]])
    client = client_for(head)
    assert "上官婉儿" in client.get("/notify/home-visits/").content.decode()
    assert ADDRESS in client.post(f"/notify/home-visits/{visit_task.pk}/reveal/").content.decode()
    assert reveals().get().actor_id == head.pk

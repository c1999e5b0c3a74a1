"""F5 channel letter: mail merge of due letter tasks into one print-ready PDF (S2 audited)."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from careloop.accounts.roles import Role
from careloop.audit.models import AuditEvent
from careloop.followup.choices import TaskStatus
from careloop.followup.tests.uihelpers import (
    client_for,
    make_policy,
    make_stage,
    make_task,
    make_visit,
)
from careloop.notify.tests.test_templates import grant

pytestmark = pytest.mark.django_db


def pdf_pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


@pytest.fixture
def letter_tasks(org, templates, settings):
    settings.HOSPITAL_NAME = "第一人民医院"
    stage = make_stage(make_policy(), code="letter", name="出院信函", channel="letter")
    a = make_visit(org["cardio"], patient_no="L1", name="欧阳娜娜", visit_no="ZL1")
    a.patient.sex = "2"
    a.patient.address = "北京市东城区和平里北街 12 号 3 单元 501"
    a.patient.save()
    b = make_visit(org["ortho"], patient_no="L2", name="司马光", visit_no="ZL2")
    b.patient.sex = "1"
    b.patient.address = "上海市浦东新区世纪大道 100 号"
    b.patient.save()
    return {
        "a": make_task(stage, a),
        "b": make_task(stage, b),
        "done": make_task(stage, make_visit(org["cardio"], patient_no="L3", name="归档者",
                                            visit_no="ZL3"), status=TaskStatus.COMPLETED),
    }  # fmt: skip


@pytest.fixture
def supervisor(org, make_user):
    user = make_user("sup", Role.SUPERVISOR, departments=[org["service"]])
    return grant(user, "notify.print_letter")


def test_letters_pdf_one_page_per_patient_with_address_audited(letter_tasks, supervisor):
    client = client_for(supervisor)
    page = client.get("/notify/letters/").content.decode()
    assert "欧阳娜娜" in page and "司马光" in page and "归档者" not in page
    assert "北京市" not in page  # the list shows no address
    response = client.post(
        "/notify/letters/", {"task": [letter_tasks["a"].pk, letter_tasks["b"].pk]}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pages = pdf_pages(response.content)
    assert len(pages) == 2
    assert "欧阳娜娜 女士 收" in pages[0]
    assert "北京市东城区和平里北街 12 号 3 单元 501" in pages[0]
    assert "尊敬的欧阳娜娜女士" in pages[0]
    assert "第一人民医院心血管内科病区" in pages[0]
    assert "司马光 先生 收" in pages[1]
    reveals = AuditEvent.objects.filter(action="reveal", actor=supervisor)
    assert sorted(reveals.values_list("object_id", flat=True)) == sorted(
        [str(letter_tasks["a"].patient_id), str(letter_tasks["b"].patient_id)]
    )
    for task in (letter_tasks["a"], letter_tasks["b"]):
        task.refresh_from_db()
        assert task.status == TaskStatus.DUE


def test_print_and_complete(letter_tasks, supervisor):
    client = client_for(supervisor)
    response = client.post("/notify/letters/", {"task": [letter_tasks["a"].pk], "complete": "on"})
    assert response.status_code == 200
    letter_tasks["a"].refresh_from_db()
    assert letter_tasks["a"].status == TaskStatus.COMPLETED


def test_without_permission_403_and_nothing_revealed(letter_tasks, personas):
    client = client_for(personas["cardio_nurse"])
    assert client.get("/notify/letters/").status_code == 403
    assert client.post("/notify/letters/", {"task": [letter_tasks["a"].pk]}).status_code == 403
    assert not AuditEvent.objects.filter(action="reveal").exists()


def test_scope_keeps_other_departments_out_O3(letter_tasks, make_user, org):
    head = grant(
        make_user("hn", Role.HEAD_NURSE, departments=[org["ortho"]]), "notify.print_letter"
    )
    client = client_for(head)
    assert "欧阳娜娜" not in client.get("/notify/letters/").content.decode()
    response = client.post("/notify/letters/", {"task": [letter_tasks["a"].pk]})
    assert response.status_code == 302  # nothing selectable: back to the list
    assert not AuditEvent.objects.filter(action="reveal").exists()

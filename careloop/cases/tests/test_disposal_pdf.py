"""C1: the disposal form printed as the paper form — two copies in one PDF (科室留档 / 交医务科),
each on its own page, with the hospital's title, the age at the follow-up, the signatures as
name and date, and the address in clear: each print is one audited reveal (S2)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from pypdf import PdfReader

from careloop.audit.choices import Action
from careloop.audit.models import AuditEvent
from careloop.cases.pdf import disposal_pdf
from careloop.cases.services import sign_disposal_department, sign_disposal_medical
from careloop.cases.tests.conftest import at
from careloop.cases.tests.test_disposal_views import open_form
from careloop.followup.tests.uihelpers import client_for

pytestmark = pytest.mark.django_db

ADDRESS = "湖北省汉川市仙女山街道新河路88号"


@pytest.fixture
def form(build, people, settings):
    settings.HOSPITAL_NAME = "汉川市中医医院"
    form = open_form(build, people, name="张三丰")
    patient = form.patient
    patient.address = ADDRESS
    patient.birth_date = dt.date(1960, 5, 20)
    patient.sex = "1"
    patient.save()
    return form


def pages(content: bytes) -> list[str]:
    # Layout spacing differs between text extractors; the words are what the paper says.
    return ["".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(content)).pages]


def reveals(form) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(action=Action.REVEAL, object_id=str(form.patient_id)).order_by(
            "pk"
        )
    )


def test_pdf_has_two_copies_each_on_its_own_page_C1(form, people):
    response = client_for(people["dept_head"]).get(f"/cases/disposal/{form.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    first, second = pages(response.content)
    for text in (first, second):
        assert "汉川市中医医院病人回访处置反馈表" in text
        assert "张三丰" in text and "男" in text and "65岁" in text
        assert "心血管内科病区" in text and form.visit.visit_no in text and "王医生" in text
        assert "2026-04-01" in text and ADDRESS in text
        assert "护士态度生硬" in text
        assert "本表一式两份（交医务科一份，科室留档一份）" in text
    assert first.endswith("科室留档") and second.endswith("交医务科")


def test_printing_is_one_audited_reveal_of_the_address_S2(form, people):
    head = people["dept_head"]
    assert reveals(form) == []
    client_for(head).get(f"/cases/disposal/{form.pk}/pdf/")
    (event,) = reveals(form)
    assert (event.actor_id, event.object_type) == (head.pk, "patients.patient")
    assert event.message == f"打印回访处置反馈表（{form.pk}）：家庭住址（回访任务 {form.task_id}）"
    # The screen keeps it masked and reveals nothing.
    page = client_for(head).get(f"/cases/disposal/{form.pk}/").content.decode()
    assert ADDRESS not in page and len(reveals(form)) == 1


def test_signatures_print_as_name_and_date_C1(form, people):
    head, ma = people["dept_head"], people["medical_affairs"]
    head.full_name, ma.full_name = "李主任", "陈医务"
    head.save(update_fields=["full_name"])
    ma.save(update_fields=["full_name"])
    with time_machine.travel(at("2026-04-02 09:00"), tick=False):
        sign_disposal_department(
            form, by=head, measures="约谈当班护士", plan="每周服务礼仪培训", opinion="属实"
        )
    with time_machine.travel(at("2026-04-03 15:00"), tick=False):
        form = sign_disposal_medical(form, by=ma, opinion="同意科室处理")
    first, second = pages(disposal_pdf(form, by=ma))
    for text in (first, second):
        assert "约谈当班护士" in text and "每周服务礼仪培训" in text and "同意科室处理" in text
        assert "科主任(护士长)签字：李主任时间：2026-04-02" in text
        assert "医务科签字：陈医务时间：2026-04-03" in text
    assert len(reveals(form)) == 1


def test_age_is_taken_at_the_follow_up_not_at_printing_C1(form, people):
    # 20 May 2026 is the 66th birthday; the follow-up on 1 April found a 65-year-old.
    with time_machine.travel(at("2026-06-01 09:00"), tick=False):
        first, _second = pages(disposal_pdf(form, by=people["dept_head"]))
    assert "65岁" in first and "66岁" not in first


def test_pdf_outside_the_scope_is_404_and_reveals_nothing_O3(form, people):
    response = client_for(people["ortho_head"]).get(f"/cases/disposal/{form.pk}/pdf/")
    assert response.status_code == 404
    assert reveals(form) == []


def test_without_the_reveal_right_the_pdf_prints_the_address_masked_P3(form, make_user, org):
    from careloop.accounts.roles import Role
    from careloop.lib.masking import mask_address

    nursing = make_user("nursingdept", Role.NURSING_DEPT, departments=[org["service"]])
    response = client_for(nursing).get(f"/cases/disposal/{form.pk}/pdf/")
    assert response.status_code == 200
    first, _second = pages(response.content)
    assert ADDRESS not in first
    assert "".join(mask_address(ADDRESS).split()) in first
    assert reveals(form) == []

"""C2 over the API: an online channel registers a case (once per request_key); staff read
cases within their scope (O3); bad input is a Chinese 400 with nothing written."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from careloop.accounts.roles import Role
from careloop.cases.choices import CaseStatus
from careloop.cases.models import Case, CaseEvent
from careloop.cases.services import register_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(make_user):
    user = make_user("wechat", Role.HIS_CLIENT)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def as_user(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


BODY = {
    "kind": "complaint",
    "summary": "门诊候诊时间过长",
    "description": "上午 9 点挂号，11 点半才就诊，无人解释。",
    "contact_name": "王女士",
    "contact_phone": "138-0013-8000",
    "departments": ["XNK"],
    "category": "process-waiting",
    "request_key": "wx-20261129-0001",
}


def test_online_channel_registers_a_case_once_per_request_key_C2(org, personas, channel):
    first = channel.post("/api/cases/", BODY, format="json")
    assert first.status_code == 201, first.content
    again = channel.post("/api/cases/", BODY, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    case = Case.objects.get()
    assert (case.source, case.kind, case.status) == ("online", "complaint", CaseStatus.REGISTERED)
    assert case.contact_phone == "13800138000"
    assert first.json()["contact_phone"] == "138****8000"
    assert first.json()["departments"] == ["XNK"]
    assert first.json()["category"] == "就诊流程与等候 › 等候时间"
    assert CaseEvent.objects.filter(case=case).count() == 1


def test_bad_case_is_a_chinese_400_and_writes_nothing_C2(org, personas, channel):
    body = {**BODY, "kind": "rant", "departments": ["XNK", "NOPE"], "category": "missing"}
    response = channel.post("/api/cases/", body, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert errors["kind"] == ["类型“rant”无效"]
    assert errors["departments"] == ["科室代码不存在：NOPE"]
    assert errors["category"] == ["分类代码“missing”不存在或已停用"]
    nobody = {**BODY, "contact_phone": "", "request_key": "x"}
    assert channel.post("/api/cases/", nobody, format="json").json() == {
        "contact_phone": ["请填写联系电话或病历号，以便答复"]
    }
    assert Case.objects.count() == 0


def test_channel_cannot_read_cases_and_staff_read_only_their_scope_O3(org, personas, channel):
    cardio = register_case(by=personas["agent"], kind="complaint", source="hotline",
                           summary="心内科", description="x", departments=[org["cardio"]])  # fmt: skip
    register_case(by=personas["agent"], kind="praise", source="letter", summary="骨科表扬",
                  description="y", departments=[org["ortho"]])  # fmt: skip
    assert channel.get("/api/cases/").status_code == 403
    head = as_user(personas["dept_head"])  # cardiology
    listed = head.get("/api/cases/").json()
    assert [row["id"] for row in listed["results"]] == [cardio.pk]
    other = Case.objects.exclude(pk=cardio.pk).get()
    assert head.get(f"/api/cases/{other.pk}/").status_code == 404
    everyone = as_user(personas["agent"]).get("/api/cases/?kind=praise").json()
    assert [row["summary"] for row in everyone["results"]] == ["骨科表扬"]
    assert as_user(personas["leader"]).get("/api/cases/").status_code == 403


def test_a_case_from_the_online_channel_is_called_back_by_its_handler_C3(org, personas, channel):
    from careloop.cases.models import CaseRefollow
    from careloop.cases.services import advance_case

    channel.post("/api/cases/", BODY, format="json")
    case = Case.objects.get()
    medical = personas["medical_affairs"]
    advance_case(case, CaseStatus.ACCEPTED, by=personas["agent"])
    advance_case(case, CaseStatus.CLOSED, by=medical, finding="false",
                 reply="已电话说明候诊高峰情况。")  # fmt: skip
    assert CaseRefollow.objects.get(case=case).assignee == personas["agent"]


def test_a_long_request_key_fits_and_still_deduplicates_S4(org, personas, channel):
    body = {**BODY, "request_key": "f" * 64 + "-wechat-openid-o6_bmjrPTlm6_2sgVt7hMZOPfL2M"}
    first = channel.post("/api/cases/", body, format="json")
    assert first.status_code == 201, first.content
    assert channel.post("/api/cases/", body, format="json").json()["id"] == first.json()["id"]
    assert len(Case.objects.get().request_key) == 64


def test_patient_lookup_is_scoped_and_follows_a_merge_O3_P5(org, personas):
    from careloop.patients.models import Patient, Visit

    ortho = Patient.objects.create(patient_no="P-GK-1", name="骨科患者")
    Visit.objects.create(patient=ortho, visit_type="inpatient", visit_no="ZY1",
                         department=org["ortho"])  # fmt: skip
    nurse = as_user(personas["cardio_nurse"])
    body = {**BODY, "patient_no": "P-GK-1", "contact_phone": "", "request_key": "k1"}
    refused = nurse.post("/api/cases/", body, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"patient_no": ["病历号“P-GK-1”不存在"]}
    survivor = Patient.objects.create(patient_no="P-GK-2", name="骨科患者")
    Patient.objects.filter(pk=ortho.pk).update(merged_into=survivor)
    agent = as_user(personas["agent"])
    made = agent.post("/api/cases/", {**body, "request_key": "k2"}, format="json")
    assert made.status_code == 201, made.content
    assert Case.objects.get().patient == survivor

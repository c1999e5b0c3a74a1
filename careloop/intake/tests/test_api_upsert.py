"""P4.3: HIS vendors push visits as JSON — the same §9 validation and the same idempotent write
path as the file import, one request all-or-nothing (S4), errors in Chinese and never a 500
(S5), token authentication for the system account, refused for everybody else (O3)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import threading
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.test import Client
from rest_framework.authtoken.models import Token

from careloop.accounts.roles import Role
from careloop.audit.models import AuditEvent
from careloop.intake.api.serializers import ACCEPTED_FIELDS, VisitRowSerializer
from careloop.patients.models import Diagnosis, Patient, PatientEvent, PatientPhone, Visit

pytestmark = pytest.mark.django_db

URL = "/api/intake/visits/"
SHANGHAI = ZoneInfo("Asia/Shanghai")

INPATIENT = {
    "patient_id": "P0001",
    "name": "张三",
    "sex": "男",
    "birth_date": "1960-05-01",
    "phone": ["13800138000", "010-6512 3456"],
    "id_number": "11010519491231002X",
    "address": "湖北省武汉市江岸区解放大道 1 号",
    "visit_type": "住院",
    "visit_no": "Z2026000123",
    "department": "XNK",
    "admitted_at": "2026-03-01 08:30",
    "discharged_at": "2026-03-08T10:00:00+08:00",
    "diagnosis": [{"code": "I21.9", "text": "急性心肌梗死"}, {"code": "I10", "text": "高血压"}],
    "disposition": "1",
    "total_cost": 23456.7,
    "special": True,
    "chronic": "是",
    "dispute": False,
    "refused": "否",
}
OUTPATIENT = {
    "patient_no": "P0002",
    "name": "李四",
    "sex": "2",
    "age": 45,
    "phone": "13900139000",
    "visit_type": "outpatient",
    "visit_no": "M2026000456",
    "department": "骨科病区",
    "visit_at": "2026-03-05 09:15",
    "first_visit": "是",
    "diagnosis": "腰椎间盘突出症",
    "icd10": "M51.2",
}


@pytest.fixture
def his(org, make_user):
    user = make_user("his", Role.HIS_CLIENT)
    return user, Token.objects.create(user=user)


def push(token, payload, **extra):
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload, ensure_ascii=False)
    return Client().post(
        URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token.key}", **extra
    )


def dump() -> dict:
    """Full contents of every table the upsert writes (decrypted values compare equal)."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Patient, PatientPhone, Visit, Diagnosis, PatientEvent)
    }


def test_push_creates_visits_and_the_same_payload_again_changes_nothing_P4(his):
    _user, token = his
    payload = {"rows": [INPATIENT, OUTPATIENT]}

    first = push(token, payload)
    assert first.status_code == 200
    inpatient = Visit.objects.get(visit_no="Z2026000123")
    outpatient = Visit.objects.get(visit_no="M2026000456")
    assert first.json() == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "results": [
            {"row": 1, "status": "created", "visit_id": inpatient.pk},
            {"row": 2, "status": "created", "visit_id": outpatient.pk},
        ],
    }
    before = dump()

    second = push(token, payload)
    assert second.status_code == 200
    assert second.json() == {
        "created": 0,
        "updated": 0,
        "unchanged": 2,
        "results": [
            {"row": 1, "status": "unchanged", "visit_id": inpatient.pk},
            {"row": 2, "status": "unchanged", "visit_id": outpatient.pk},
        ],
    }
    assert dump() == before


def test_pushed_row_is_stored_as_the_file_import_would_store_it_P4(his, org):
    _user, token = his
    assert push(token, {"rows": [INPATIENT, OUTPATIENT]}).status_code == 200

    visit = Visit.objects.get(visit_no="Z2026000123")
    assert (visit.visit_type, visit.department, visit.source) == ("inpatient", org["cardio"], "api")
    assert visit.admitted_at == dt.datetime(2026, 3, 1, 8, 30, tzinfo=SHANGHAI)
    assert visit.discharged_at == dt.datetime(2026, 3, 8, 10, 0, tzinfo=SHANGHAI)
    assert visit.length_of_stay_days == 7
    assert (visit.disposition, visit.total_cost) == ("1", Decimal("23456.70"))
    assert (visit.special, visit.chronic, visit.first_visit) == (True, True, False)
    assert list(visit.diagnoses.values_list("code", "text", "is_principal")) == [
        ("I21.9", "急性心肌梗死", True),
        ("I10", "高血压", False),
    ]
    patient = visit.patient
    assert (patient.patient_no, patient.name, patient.sex) == ("P0001", "张三", "1")
    assert patient.birth_date == dt.date(1960, 5, 1)
    assert (patient.id_number, patient.address) == (
        "11010519491231002X",
        "湖北省武汉市江岸区解放大道 1 号",
    )
    assert (patient.open_dispute, patient.do_not_contact) == (False, False)
    assert [(p.number, p.is_preferred) for p in patient.phones.all()] == [
        ("13800138000", True),
        ("01065123456", False),
    ]

    clinic = Visit.objects.get(visit_no="M2026000456")
    assert (clinic.visit_type, clinic.department, clinic.first_visit) == (
        "outpatient",
        org["ortho"],
        True,
    )
    assert clinic.visit_at == dt.datetime(2026, 3, 5, 9, 15, tzinfo=SHANGHAI)
    assert list(clinic.diagnoses.values_list("code", "text")) == [("M51.2", "腰椎间盘突出症")]
    assert clinic.patient.patient_no == "P0002"  # "patient_no" is accepted beside "patient_id"
    assert clinic.patient.birth_date_estimated is True


def test_a_changed_row_updates_its_visit_and_records_the_P5_event(his):
    _user, token = his
    push(token, {"rows": [INPATIENT]})
    visit = Visit.objects.get()

    changed = {**INPATIENT, "discharged_at": "2026-03-09 16:00", "phone": "13700137000"}
    response = push(token, {"rows": [changed]})

    assert response.json() == {
        "created": 0,
        "updated": 1,
        "unchanged": 0,
        "results": [{"row": 1, "status": "updated", "visit_id": visit.pk}],
    }
    visit.refresh_from_db()
    assert visit.discharged_at == dt.datetime(2026, 3, 9, 16, 0, tzinfo=SHANGHAI)
    assert [p.number for p in visit.patient.phones.all()] == ["13700137000"]
    assert (Patient.objects.count(), Visit.objects.count()) == (1, 1)
    event = PatientEvent.objects.get()
    assert (event.kind, event.source, event.visit_id) == ("discharge_time_changed", "api", visit.pk)


def test_a_field_left_out_keeps_its_stored_value_P4(his):
    _user, token = his
    push(token, {"rows": [INPATIENT]})
    before = dump()
    slim = {k: v for k, v in INPATIENT.items() if k not in ("phone", "address", "special")}

    response = push(token, {"rows": [slim]})

    assert response.json()["unchanged"] == 1
    assert dump() == before


def test_iso_times_in_utc_and_booleans_as_json_or_chinese(his):
    _user, token = his
    row = {
        **OUTPATIENT,
        "visit_at": "2026-03-05T01:15:00Z",
        "lost": True,
        "chronic": "否",
        "refused": "是",
        "dispute": True,
    }
    assert push(token, {"rows": [row]}).status_code == 200
    visit = Visit.objects.get()
    assert visit.visit_at == dt.datetime(2026, 3, 5, 9, 15, tzinfo=SHANGHAI)
    assert (visit.lost, visit.chronic) == (True, False)
    assert (visit.patient.do_not_contact, visit.patient.open_dispute) == (True, True)


def test_structured_diagnoses_keep_code_and_text_together(his):
    _user, token = his
    row = {**INPATIENT, "diagnosis": [{"code": "i21.9"}, {"code": "I10", "text": "高血压；2级"}]}
    assert push(token, {"rows": [row]}).status_code == 200
    assert list(Diagnosis.objects.values_list("code", "text", "is_principal")) == [
        ("I21.9", "", True),
        ("I10", "高血压；2级", False),
    ]


def test_the_request_is_audited_with_its_counts_S2(his):
    user, token = his
    push(token, {"rows": [INPATIENT, OUTPATIENT]})
    push(token, {"rows": [INPATIENT]})
    events = list(
        AuditEvent.objects.filter(action="import")
        .order_by("pk")
        .values_list("actor_id", "object_type", "message")
    )
    assert events == [
        (user.pk, "patients.visit", "API 写入 2 行：新增 2，更新 0，未变 0"),
        (user.pk, "patients.visit", "API 写入 1 行：新增 0，更新 0，未变 1"),
    ]


# --- S5: bad input gets 400 with what and where in Chinese, and nothing is written -------------


def _without(row, key):
    return {k: v for k, v in row.items() if k != key}


def _err(row, field, label, value, message):
    return {"row": row, "field": field, "label": label, "value": value, "message": message}


INVALID = {
    "missing_visit_no": (
        {"rows": [_without(INPATIENT, "visit_no")]},
        "第 1 行有错误，未写入任何数据",
        [_err(1, "visit_no", "住院号/门诊号", "", "不能为空")],
    ),
    "bad_date": (
        {"rows": [OUTPATIENT, {**INPATIENT, "admitted_at": "2026-13-45"}]},
        "第 2 行有错误，未写入任何数据",
        [_err(2, "admitted_at", "入院时间", "2026-13-45", "时间格式应为 YYYY-MM-DD HH:MM")],
    ),
    "discharged_before_admitted": (
        {"rows": [{**INPATIENT, "discharged_at": "2026-02-28 10:00"}]},
        "第 1 行有错误，未写入任何数据",
        [_err(1, "discharged_at", "出院时间", "2026-02-28 10:00", "出院时间早于入院时间")],
    ),
    "unknown_department": (
        {"rows": [INPATIENT, {**OUTPATIENT, "department": "不存在的科室"}]},
        "第 2 行有错误，未写入任何数据",
        [
            _err(
                2,
                "department",
                "科室",
                "不存在的科室",
                "科室不存在（请先导入科室表，或检查名称/编码）",
            )
        ],
    ),
    "every_bad_row_reported_at_once": (
        {"rows": [_without(INPATIENT, "name"), {**OUTPATIENT, "department": "不存在的科室"}]},
        "第 1、2 行有错误，未写入任何数据",
        [
            _err(1, "name", "姓名", "", "不能为空"),
            _err(
                2,
                "department",
                "科室",
                "不存在的科室",
                "科室不存在（请先导入科室表，或检查名称/编码）",
            ),
        ],
    ),
    "patient_id_reported_under_the_clients_name": (
        {"rows": [{**INPATIENT, "patient_id": " "}]},
        "第 1 行有错误，未写入任何数据",
        [_err(1, "patient_id", "病历号", " ", "不能为空")],
    ),
    "row_not_an_object": (
        {"rows": [INPATIENT, ["P0002", "李四"]]},
        "第 2 行有错误，未写入任何数据",
        [_err(2, None, "", '["P0002", "李四"]', "每一行应为 JSON 对象")],
    ),
    "unknown_field": (
        {"rows": [{**INPATIENT, "dischargd_at": "2026-03-08 10:00"}]},
        "第 1 行有错误，未写入任何数据",
        [
            _err(
                1,
                "dischargd_at",
                "",
                "2026-03-08 10:00",
                "未知字段（可用字段见接口文档 /api/docs/）",
            )
        ],
    ),
    "wrong_types": (
        {"rows": [{**INPATIENT, "name": ["张三"], "visit_no": True, "special": {"x": 1}}]},
        "第 1 行有错误，未写入任何数据",
        [
            _err(1, "name", "姓名", '["张三"]', "应为文本、数字或 null"),
            _err(1, "visit_no", "住院号/门诊号", "true", "应为文本或数字"),
            _err(1, "special", "特殊病人", '{"x": 1}', "应为文本、数字或 null"),
        ],
    ),
    "bad_code_in_structured_diagnosis": (
        {"rows": [{**INPATIENT, "diagnosis": [{"code": "XYZ", "text": "未知"}]}]},
        "第 1 行有错误，未写入任何数据",
        [_err(1, "diagnosis", "诊断", "XYZ", "ICD-10 编码“XYZ”格式不正确")],
    ),
    "one_visit_twice_in_a_request": (
        {"rows": [INPATIENT, {**INPATIENT, "name": "张叁"}]},
        "第 2 行有错误，未写入任何数据",
        [_err(2, "visit_no", "住院号/门诊号", "Z2026000123", "与第 1 行是同一就诊，请合并为一行")],
    ),
    "many_rows_wrong": (
        {"rows": [_without(INPATIENT, "name")] * 7},
        "第 1、2、3、4、5 等 7 行有错误，未写入任何数据",
        [_err(n, "name", "姓名", "", "不能为空") for n in range(1, 8)],
    ),
    "rows_not_a_list": ({"rows": INPATIENT}, "rows 应为数组，每个元素是一行就诊记录", None),
    "rows_missing": ({"visits": [INPATIENT]}, '缺少 rows 字段：{"rows": [...]}', None),
    "rows_empty": ({"rows": []}, "rows 不能为空", None),
    "top_level_list": ([INPATIENT], '请求体应为 JSON 对象：{"rows": [...]}', None),
    "too_many_rows": (
        {"rows": [INPATIENT] * 1001},
        "一次最多提交 1000 行，本次 1001 行，未写入任何数据",
        None,
    ),
    "garbage_json": ('{"rows": [{"name": "张三",', "请求内容格式错误", None),
    "not_utf8": (b'{"rows": "\xff\xfe"}', "请求内容格式错误", None),
}


@pytest.mark.parametrize("case", INVALID.keys())
def test_invalid_payload_is_refused_in_chinese_and_writes_nothing_S5(his, case):
    _user, token = his
    payload, detail, errors = INVALID[case]
    payload = copy.deepcopy(payload)

    response = push(token, payload)

    assert response.status_code == 400
    expected = {"detail": detail} if errors is None else {"detail": detail, "errors": errors}
    assert response.json() == expected
    assert (Patient.objects.count(), Visit.objects.count(), Diagnosis.objects.count()) == (0, 0, 0)
    assert PatientEvent.objects.count() == 0


def test_a_refused_batch_is_audited_and_leaves_earlier_data_alone_S4(his):
    user, token = his
    push(token, {"rows": [INPATIENT]})
    before = dump()
    changed = {**INPATIENT, "discharged_at": "2026-03-10 10:00"}

    response = push(token, {"rows": [changed, {**OUTPATIENT, "department": "不存在的科室"}]})

    assert response.status_code == 400
    assert dump() == before
    assert AuditEvent.objects.filter(action="import").order_by("-pk").values_list(
        "actor_id", "message"
    )[0] == (user.pk, "API 写入被拒绝：第 2 行有错误，未写入任何数据")


def test_form_encoded_body_and_get_are_refused_in_chinese(his):
    _user, token = his
    auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    form = Client().post(URL, {"rows": "x"}, **auth)
    assert (form.status_code, form.json()) == (415, {"detail": "不支持的内容类型"})
    get = Client().get(URL, **auth)
    assert (get.status_code, get.json()) == (405, {"detail": "不支持该请求方法"})


# --- who may push -----------------------------------------------------------------------------


def test_token_authentication_works_without_a_session(his):
    _user, token = his
    response = push(token, {"rows": [INPATIENT]})
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert "csrftoken" not in response.cookies


def test_scoped_nurse_cannot_push_and_the_refusal_changed_nothing_O3(his, personas):
    _user, token = his
    push(token, {"rows": [INPATIENT]})
    before = dump()
    audit_before = AuditEvent.objects.filter(action="import").count()
    nurse = Client()
    nurse.force_login(personas["cardio_nurse"])

    changed = {**INPATIENT, "name": "王五"}
    response = nurse.post(URL, {"rows": [changed]}, content_type="application/json")
    nurse_token = Token.objects.create(user=personas["cardio_nurse"])
    by_token = push(nurse_token, {"rows": [changed]})

    assert (response.status_code, response.json()) == (403, {"detail": "没有权限执行此操作"})
    assert (by_token.status_code, by_token.json()) == (403, {"detail": "没有权限执行此操作"})
    assert dump() == before
    assert AuditEvent.objects.filter(action="import").count() == audit_before


@pytest.mark.parametrize("persona", ["agent", "medical_affairs", "sysadmin", "auditor"])
def test_no_person_role_may_push_O3(personas, persona):
    client = Client()
    client.force_login(personas[persona])
    response = client.post(URL, {"rows": [INPATIENT]}, content_type="application/json")
    assert (response.status_code, response.json()) == (403, {"detail": "没有权限执行此操作"})
    assert Visit.objects.count() == 0


def test_missing_or_wrong_token_is_refused_in_chinese(his):
    anonymous = Client().post(URL, {"rows": [INPATIENT]}, content_type="application/json")
    assert (anonymous.status_code, anonymous.json()) == (403, {"detail": "未登录或令牌无效"})
    wrong = Client().post(
        URL, {"rows": [INPATIENT]}, content_type="application/json", HTTP_AUTHORIZATION="Token x"
    )
    assert (wrong.status_code, wrong.json()) == (403, {"detail": "身份验证失败"})
    assert Visit.objects.count() == 0


def test_documented_row_fields_are_exactly_the_accepted_ones():
    assert set(VisitRowSerializer().fields) == ACCEPTED_FIELDS


@pytest.mark.django_db(transaction=True)
def test_a_push_racing_another_writer_for_the_same_new_patient_succeeds_S4(his):
    """While another transaction has just inserted the same new patient, the push waits for it;
    on PostgreSQL its own insert then hits the unique patient id and the batch is retried."""
    _user, token = his
    results = {}

    def pushing():
        try:
            results["response"] = push(token, {"rows": [INPATIENT]})
        finally:
            connection.close()

    thread = threading.Thread(target=pushing)
    with transaction.atomic():
        Patient.objects.create(patient_no="P0001", name="张三")
        thread.start()
        thread.join(timeout=1.0)  # still waiting for this transaction
        assert thread.is_alive()
    thread.join(timeout=30)

    response = results["response"]
    assert response.status_code == 200
    assert response.json()["created"] == 1  # the visit; the patient was the other writer's
    assert Patient.objects.count() == 1
    visit = Visit.objects.get()
    assert (visit.patient.patient_no, visit.patient.sex) == ("P0001", "1")


def test_a_full_batch_of_1000_rows_is_accepted(his):
    _user, token = his
    rows = [
        {**OUTPATIENT, "patient_no": f"P{n:05d}", "visit_no": f"M{n:07d}", "phone": f"139{n:08d}"}
        for n in range(1000)
    ]
    response = push(token, {"rows": rows})
    assert response.status_code == 200
    assert {k: response.json()[k] for k in ("created", "updated", "unchanged")} == {
        "created": 1000,
        "updated": 0,
        "unchanged": 0,
    }
    assert (Patient.objects.count(), Visit.objects.count(), PatientPhone.objects.count()) == (
        1000,
        1000,
        1000,
    )

"""P4.3 read side: /api/patients/ and /api/visits/ scoped by department (O3), filtered and
paginated, sensitive data masked (P3), patient views audited (S2); the OpenAPI schema and its
docs page served from the installation with no outside host."""

from __future__ import annotations

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

import pytest
import yaml
from django.test import Client
from drf_spectacular.validation import validate_schema
from rest_framework.authtoken.models import Token

from careloop.accounts.roles import Role
from careloop.audit.models import AuditEvent
from careloop.intake.api.serializers import ACCEPTED_FIELDS
from careloop.patients.models import Diagnosis, Patient, PatientPhone, Visit

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
CARDIO_PHONE, ORTHO_PHONE, SHARED_PHONE = "13800138000", "13900139000", "13700137000"
ID_NUMBER = "11010519491231002X"
ADDRESS = "湖北省武汉市江岸区解放大道 1 号"


def _patient(no, name, phone, **extra):
    patient = Patient.objects.create(patient_no=no, name=name, sex="1", **extra)
    PatientPhone.objects.create(patient=patient, number=phone, is_preferred=True)
    return patient


def _visit(patient, no, department, discharged, **extra):
    admitted = discharged - dt.timedelta(days=5) if discharged else None
    return Visit.objects.create(
        patient=patient,
        visit_type=extra.pop("visit_type", "inpatient"),
        visit_no=no,
        department=department,
        admitted_at=admitted,
        discharged_at=discharged,
        **extra,
    )


@pytest.fixture
def archive(org):
    """A cardiology patient, an orthopaedics patient, and one with a visit in each."""
    cardio = _patient(
        "P100",
        "张三",
        CARDIO_PHONE,
        id_number=ID_NUMBER,
        address=ADDRESS,
        birth_date=dt.date(1960, 5, 1),
    )
    ortho = _patient("P200", "李四", ORTHO_PHONE)
    shared = _patient("P300", "王五", SHARED_PHONE)
    visits = {
        "cardio": _visit(
            cardio, "Z100", org["cardio"], dt.datetime(2026, 3, 8, 10, tzinfo=SHANGHAI)
        ),
        "ortho": _visit(
            ortho, "Z200", org["ortho"], dt.datetime(2026, 3, 10, 23, 30, tzinfo=SHANGHAI)
        ),
        "shared_cardio": _visit(
            shared, "Z300", org["cardio"], dt.datetime(2026, 2, 1, 9, tzinfo=SHANGHAI)
        ),
        "shared_ortho": _visit(
            shared,
            "M300",
            org["ortho"],
            None,
            visit_type="outpatient",
            visit_at=dt.datetime(2026, 3, 12, 9, tzinfo=SHANGHAI),
        ),
    }
    Diagnosis.objects.create(
        visit=visits["cardio"], code="I21.9", text="急性心肌梗死", is_principal=True
    )
    return {
        "cardio": cardio,
        "ortho": ortho,
        "shared": shared,
        **{f"v_{k}": v for k, v in visits.items()},
    }


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def _nos(response, key):
    return [item[key] for item in response.json()["results"]]


# --- O3 scope ---------------------------------------------------------------------------------


def test_nurse_patient_list_shows_only_her_departments_patients_O3(personas, archive):
    response = client_for(personas["cardio_nurse"]).get("/api/patients/")
    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert sorted(_nos(response, "patient_no")) == ["P100", "P300"]


def test_nurse_patient_detail_is_scoped_and_shows_only_her_visits_O3(personas, archive):
    client = client_for(personas["cardio_nurse"])
    missing = client.get(f"/api/patients/{archive['ortho'].pk}/")
    assert (missing.status_code, missing.json()) == (404, {"detail": "未找到该记录"})

    shared = client.get(f"/api/patients/{archive['shared'].pk}/").json()
    assert shared["patient_no"] == "P300"
    assert [v["visit_no"] for v in shared["visits"]] == ["Z300"]  # not the orthopaedics visit


def test_nurse_visit_list_and_detail_are_scoped_O3(personas, archive):
    client = client_for(personas["cardio_nurse"])
    listed = client.get("/api/visits/")
    assert listed.json()["count"] == 2
    assert _nos(listed, "visit_no") == ["Z100", "Z300"]  # latest discharge first
    assert client.get(f"/api/visits/{archive['v_ortho'].pk}/").status_code == 404
    assert client.get(f"/api/visits/{archive['v_shared_ortho'].pk}/").status_code == 404
    detail = client.get(f"/api/visits/{archive['v_cardio'].pk}/").json()
    assert (detail["department"], detail["department_name"]) == ("XNK", "心血管内科病区")
    assert detail["patient"] == {"id": archive["cardio"].pk, "patient_no": "P100", "name": "张三"}
    assert detail["diagnoses"] == [{"code": "I21.9", "text": "急性心肌梗死", "is_principal": True}]
    assert detail["length_of_stay_days"] == 5


def test_filtering_by_another_department_gives_nothing_O3(personas, archive):
    client = client_for(personas["cardio_nurse"])
    assert client.get("/api/visits/", {"department": "GK"}).json()["count"] == 0
    # P300 is hers (a cardiology visit) and also had an orthopaedics visit: the filter must not
    # reveal that.
    assert client.get("/api/patients/", {"department": "GK"}).json()["count"] == 0
    assert client.get("/api/patients/", {"patient_no": "P200"}).json()["count"] == 0


def test_service_centre_and_medical_affairs_see_all_O3(personas, archive):
    for persona in ("agent", "medical_affairs"):
        client = client_for(personas[persona])
        assert client.get("/api/patients/").json()["count"] == 3
        assert client.get("/api/visits/").json()["count"] == 4


def test_leadership_auditor_and_sysadmin_read_no_patients_O3(personas, archive):
    for persona in ("leader", "auditor", "sysadmin"):
        client = client_for(personas[persona])
        for url in ("/api/patients/", "/api/visits/", f"/api/patients/{archive['cardio'].pk}/"):
            response = client.get(url)
            assert (response.status_code, response.json()) == (
                403,
                {"detail": "没有权限执行此操作"},
            )


def test_refused_api_writes_change_nothing_O3(personas, archive):
    client = client_for(personas["cardio_nurse"])
    changes = AuditEvent.objects.filter(action__in=["create", "update", "delete"])
    changes_before = changes.count()
    before = (
        list(Patient.objects.order_by("pk").values()),
        list(Visit.objects.order_by("pk").values()),
    )
    responses = [
        client.post("/api/patients/", {"patient_no": "P999"}, content_type="application/json"),
        client.patch(
            f"/api/patients/{archive['cardio'].pk}/", {"name": "X"}, content_type="application/json"
        ),
        client.delete(f"/api/visits/{archive['v_cardio'].pk}/"),
        client.put(f"/api/visits/{archive['v_ortho'].pk}/", {}, content_type="application/json"),
    ]
    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    after = (
        list(Patient.objects.order_by("pk").values()),
        list(Visit.objects.order_by("pk").values()),
    )
    assert after == before
    assert changes.count() == changes_before


# --- filters and pagination -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"department": "XNK"}, ["Z100", "Z300"]),
        ({"department": "GK"}, ["Z200", "M300"]),
        ({"visit_type": "outpatient"}, ["M300"]),
        ({"visit_no": "Z200"}, ["Z200"]),
        ({"patient_no": "P300"}, ["Z300", "M300"]),
        # 23:30 Shanghai on 10 March is still 10 March: dates are the hospital's days.
        ({"discharged_from": "2026-03-08", "discharged_to": "2026-03-10"}, ["Z200", "Z100"]),
        ({"discharged_from": "2026-03-09"}, ["Z200"]),
        ({"discharged_to": "2026-03-07"}, ["Z300"]),
        ({"department": "XNK", "discharged_from": "2026-03-01"}, ["Z100"]),
    ],
)
def test_visit_filters(personas, archive, params, expected):
    response = client_for(personas["agent"]).get("/api/visits/", params)
    assert sorted(_nos(response, "visit_no")) == sorted(expected)
    assert response.json()["count"] == len(expected)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"phone": "138-0013-8000"}, ["P100"]),  # exact, through the blind index (P3)
        ({"phone": "1380013"}, []),
        ({"id_number": "11010519491231002x"}, ["P100"]),
        ({"name": "王"}, ["P300"]),
        ({"department": "GK"}, ["P200", "P300"]),
        ({"patient_no": "P200"}, ["P200"]),
    ],
)
def test_patient_filters(personas, archive, params, expected):
    response = client_for(personas["agent"]).get("/api/patients/", params)
    assert sorted(_nos(response, "patient_no")) == expected


def test_a_bad_filter_value_is_a_400_in_chinese_S5(personas, archive):
    response = client_for(personas["agent"]).get("/api/visits/", {"discharged_from": "3月8日"})
    assert (response.status_code, response.json()) == (
        400,
        {"discharged_from": ["输入一个有效的日期。"]},
    )
    wrong_type = client_for(personas["agent"]).get("/api/visits/", {"visit_type": "住院"})
    assert wrong_type.status_code == 400
    assert wrong_type.json() == {"visit_type": ["选择一个有效的选项。 住院 不在可用的选项中。"]}


def test_pagination_with_page_size(personas, archive):
    client = client_for(personas["agent"])
    first = client.get("/api/visits/", {"page_size": 3}).json()
    assert (first["count"], len(first["results"])) == (4, 3)
    assert first["next"] == "http://testserver/api/visits/?page=2&page_size=3"
    second = client.get("/api/visits/", {"page_size": 3, "page": 2}).json()
    assert len(second["results"]) == 1
    seen = [v["visit_no"] for v in first["results"] + second["results"]]
    assert sorted(seen) == ["M300", "Z100", "Z200", "Z300"]
    beyond = client.get("/api/visits/", {"page": 9})
    assert (beyond.status_code, beyond.json()) == (404, {"detail": "未找到该记录"})


# --- P3 masking and S2 audit ------------------------------------------------------------------


def test_api_never_returns_plaintext_phone_id_number_or_address_P3(personas, archive, make_user):
    # The agent may reveal in the archive page; the API still only masks.
    agent = client_for(personas["agent"])
    his = make_user("his", Role.HIS_CLIENT)
    token = Token.objects.create(user=his)
    responses = [
        agent.get("/api/patients/"),
        agent.get(f"/api/patients/{archive['cardio'].pk}/"),
        agent.get("/api/visits/"),
        agent.get(f"/api/visits/{archive['v_cardio'].pk}/"),
        Client().get("/api/patients/", HTTP_AUTHORIZATION=f"Token {token.key}"),
    ]
    for response in responses:
        assert response.status_code == 200
        text = response.content.decode()
        for secret in (CARDIO_PHONE, ORTHO_PHONE, SHARED_PHONE, ID_NUMBER, "解放大道"):
            assert secret not in text

    detail = responses[1].json()
    assert detail["phones"] == [
        {"number": "138****8000", "owner": "self", "owner_display": "本人", "is_preferred": True}
    ]
    assert detail["id_number"] == "1101**********002X"
    assert detail["address"] == "湖北省武汉市********"
    assert detail["age"] == archive["cardio"].age()
    assert detail["sex_display"] == "男"


def test_opening_a_patient_or_visit_is_audited_S2(personas, archive):
    nurse = personas["cardio_nurse"]
    client = client_for(nurse)
    client.get(f"/api/patients/{archive['cardio'].pk}/")
    client.get(f"/api/visits/{archive['v_shared_cardio'].pk}/")
    client.get(f"/api/patients/{archive['ortho'].pk}/")  # 404: not a view
    events = AuditEvent.objects.filter(action="view").order_by("pk")
    assert list(events.values_list("actor_id", "object_type", "object_id", "message")) == [
        (nurse.pk, "patients.patient", str(archive["cardio"].pk), "API"),
        (nurse.pk, "patients.patient", str(archive["shared"].pk), "API：住院 Z300"),
    ]


def test_token_reads_work_for_the_his_account(archive, make_user):
    his = make_user("his", Role.HIS_CLIENT)
    token = Token.objects.create(user=his)
    response = Client().get(
        "/api/visits/", {"patient_no": "P100"}, HTTP_AUTHORIZATION=f"Token {token.key}"
    )
    assert response.status_code == 200
    assert _nos(response, "visit_no") == ["Z100"]
    assert "sessionid" not in response.cookies


# --- schema and docs --------------------------------------------------------------------------

API_PATHS = {
    "/api/patients/",
    "/api/patients/{id}/",
    "/api/visits/",
    "/api/visits/{id}/",
    "/api/intake/visits/",
}


def signed_in(personas):
    client = Client()
    client.force_login(personas["agent"])
    return client


def test_schema_needs_a_login():
    assert Client().get("/api/schema/").status_code == 403


def test_schema_is_valid_openapi_with_every_endpoint(personas):
    response = signed_in(personas).get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    validate_schema(schema)
    assert schema["openapi"] == "3.0.3"
    assert set(schema["paths"]) >= API_PATHS  # other apps add theirs
    assert {path: sorted(schema["paths"][path]) for path in API_PATHS} == {
        "/api/patients/": ["get"],
        "/api/patients/{id}/": ["get"],
        "/api/visits/": ["get"],
        "/api/visits/{id}/": ["get"],
        "/api/intake/visits/": ["post"],
    }
    as_json = json.loads(signed_in(personas).get("/api/schema/", {"format": "json"}).content)
    assert as_json["paths"].keys() == schema["paths"].keys()


def test_schema_documents_the_upsert_fields(personas):
    schema = yaml.safe_load(signed_in(personas).get("/api/schema/").content)
    post = schema["paths"]["/api/intake/visits/"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/VisitUpsertRequest"}
    components = schema["components"]["schemas"]
    assert components["VisitUpsertRequest"]["properties"]["rows"]["items"] == {
        "$ref": "#/components/schemas/VisitRow"
    }
    assert set(components["VisitRow"]["properties"]) == ACCEPTED_FIELDS
    assert set(post["responses"]) == {"200", "400", "403", "409"}
    assert set(components["VisitUpsertResponse"]["properties"]) == {
        "created",
        "updated",
        "unchanged",
        "results",
    }
    assert set(components["RowError"]["properties"]) == {
        "row",
        "field",
        "label",
        "value",
        "message",
    }


def test_docs_page_needs_a_login(archive):
    response = Client().get("/api/docs/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_docs_page_uses_only_local_assets(personas):
    client = client_for(personas["agent"])
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html) == []
    assets = re.findall(r"""(?:src|href)="(/static/[^"]+)\"""", html)
    assert sorted(assets) == [
        "/static/drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
    ]
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        served.close()
    assert 'url: "/api/schema/"' in html

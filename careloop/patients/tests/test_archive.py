"""Archive screens: search (P1, P3 blind index), the patient page, masked data and the audited
reveal (P3, S2), all scoped by department (O3)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from careloop.audit.models import AuditEvent
from careloop.patients.models import Diagnosis, Patient, PatientPhone, Visit

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def patients(org):
    zhang = Patient.objects.create(patient_no="P001", name="张三", sex="1", birth_date=dt.date(1960, 3, 2),
                                   id_number="420106196003021234", address="湖北省武汉市江汉区解放大道1号")  # fmt: skip
    PatientPhone.objects.create(patient=zhang, number="13812345678", is_preferred=True)
    PatientPhone.objects.create(patient=zhang, number="13900001111", owner="family", position=1)
    v1 = Visit.objects.create(patient=zhang, visit_type="inpatient", visit_no="Z001", department=org["cardio"],
                              admitted_at=T0, discharged_at=T0 + dt.timedelta(days=7), disposition="1")  # fmt: skip
    Diagnosis.objects.create(visit=v1, code="I25.1", text="冠心病", is_principal=True)
    li = Patient.objects.create(patient_no="P002", name="李四", sex="2")
    PatientPhone.objects.create(patient=li, number="13800000000", is_preferred=True)
    Visit.objects.create(patient=li, visit_type="inpatient", visit_no="Z002", department=org["ortho"],
                         admitted_at=T0, discharged_at=T0 + dt.timedelta(days=3))  # fmt: skip
    return {"zhang": zhang, "li": li}


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def found(client, q):
    return [p.patient_no for p in client.get("/patients/", {"q": q}).context["page_obj"]]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("张三", ["P001"]),
        ("张", ["P001"]),
        ("P001", ["P001"]),
        ("Z002", ["P002"]),
        ("13812345678", ["P001"]),
        ("+86 139 0000 1111", ["P001"]),  # the family number, typed another way
        ("138 0000 0000", ["P002"]),
        ("420106196003021234", ["P001"]),
        ("1381234", []),  # phones are found exactly, never by a fragment
        ("王五", []),
    ],
)
def test_search_by_name_numbers_and_phone_P1_P3(personas, patients, q, expected):
    assert found(client_for(personas["agent"]), q) == expected


def test_search_is_scoped_O3(personas, patients):
    nurse = client_for(personas["cardio_nurse"])
    assert found(nurse, "") == ["P001"]
    assert found(nurse, "13800000000") == []
    assert nurse.get(f"/patients/{patients['li'].pk}/").status_code == 404


def test_lists_show_phones_masked_P3(personas, patients):
    html = client_for(personas["agent"]).get("/patients/").content.decode()
    assert "138****5678" in html and "13812345678" not in html


def test_patient_page_is_masked_and_every_view_audited_P3_S2(personas, patients):
    client = client_for(personas["agent"])
    html = client.get(f"/patients/{patients['zhang'].pk}/").content.decode()
    assert "138****5678" in html and "139****1111" in html
    assert "4201**********1234" in html and "湖北省武汉市********" in html
    for secret in ("13812345678", "420106196003021234", "解放大道"):
        assert secret not in html
    assert "冠心病" in html and "住院 7 天" in html
    client.get(f"/patients/{patients['zhang'].pk}/")
    views = AuditEvent.objects.filter(
        action="view", object_type="patients.patient", object_id=str(patients["zhang"].pk)
    )
    assert views.count() == 2 and set(views.values_list("actor_name", flat=True)) == {"agent1"}


def test_reveal_shows_plaintext_and_is_audited_P3_S2(personas, patients):
    client = client_for(personas["agent"])
    response = client.post(f"/patients/{patients['zhang'].pk}/reveal/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "13812345678" in html and "420106196003021234" in html and "解放大道1号" in html
    event = AuditEvent.objects.get(action="reveal")
    assert (event.actor_name, event.object_id) == ("agent1", str(patients["zhang"].pk))


def test_reveal_is_refused_without_the_permission_and_audited_P3(personas, patients):
    client = client_for(personas["leader"])  # leadership reads aggregates only
    assert client.post(f"/patients/{patients['zhang'].pk}/reveal/").status_code == 403
    assert client.get(f"/patients/{patients['zhang'].pk}/").status_code == 403
    assert not AuditEvent.objects.filter(action="reveal").exists()


def test_reveal_of_another_departments_patient_is_404_O3(personas, patients):
    client = client_for(personas["cardio_nurse"])
    assert client.post(f"/patients/{patients['li'].pk}/reveal/").status_code == 404
    assert not AuditEvent.objects.filter(action="reveal").exists()


def test_a_patient_with_visits_in_two_departments_shows_only_the_visible_visits_O3(
    personas, patients, org
):
    Visit.objects.create(patient=patients["zhang"], visit_type="inpatient", visit_no="Z009", department=org["ortho"],
                         admitted_at=T0, discharged_at=T0 + dt.timedelta(days=2))  # fmt: skip
    html = (
        client_for(personas["cardio_nurse"])
        .get(f"/patients/{patients['zhang'].pk}/")
        .content.decode()
    )
    assert "Z001" in html and "Z009" not in html
    html = client_for(personas["agent"]).get(f"/patients/{patients['zhang'].pk}/").content.decode()
    assert "Z001" in html and "Z009" in html


def test_age_is_derived_from_the_birth_date_P1(patients):
    assert patients["zhang"].age(dt.date(2026, 3, 1)) == 65
    assert patients["zhang"].age(dt.date(2026, 3, 2)) == 66
    assert Patient(name="x").age() is None


def test_length_of_stay_is_derived_P2(patients):
    visit = Visit.objects.get(visit_no="Z001")
    assert visit.length_of_stay == dt.timedelta(days=7)
    assert visit.length_of_stay_days == 7

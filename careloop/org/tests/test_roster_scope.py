"""O3 department scope, on the duty roster. This file is the template every later scoped model
copies: list, detail, export and API, each with the persona that must not see the record, and
a check that a refused request changed nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from careloop.audit.models import AuditEvent
from careloop.org.models import RosterEntry, ShiftPattern

pytestmark = pytest.mark.django_db


@pytest.fixture
def roster(org, personas):
    day = ShiftPattern.objects.create(code="BAI", name="白班", start=dt.time(8), end=dt.time(17))
    date = dt.date(2026, 11, 24)
    return {
        "cardio": RosterEntry.objects.create(
            date=date, shift=day, staff=personas["cardio_nurse"], department=org["cardio"]
        ),
        "ortho": RosterEntry.objects.create(
            date=date, shift=day, staff=personas["ortho_nurse"], department=org["ortho"]
        ),
    }


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def test_nurse_list_shows_only_her_department_O3(personas, roster):
    response = client_for(personas["cardio_nurse"]).get("/org/roster/")
    assert response.status_code == 200
    assert [e.pk for e in response.context["table"].data] == [roster["cardio"].pk]


def test_nurse_cannot_open_another_departments_entry_O3(personas, roster):
    client = client_for(personas["cardio_nurse"])
    assert client.get(f"/org/roster/{roster['cardio'].pk}/").status_code == 200
    assert client.get(f"/org/roster/{roster['ortho'].pk}/").status_code == 404


def test_nurse_api_list_and_detail_are_scoped_O3(personas, roster):
    client = client_for(personas["cardio_nurse"])
    data = client.get("/api/org/roster/").json()
    assert data["count"] == 1
    assert data["results"][0]["department"] == "XNK"
    assert client.get(f"/api/org/roster/{roster['ortho'].pk}/").status_code == 404
    assert client.get(f"/api/org/roster/{roster['cardio'].pk}/").json()["staff"] == "nurse.xnk"


def test_nurse_export_is_scoped_O3(personas, roster):
    response = client_for(personas["cardio_nurse"]).get(
        "/org/roster/", {"export": "1", "format": "csv"}
    )
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert body.count("\n") == 2  # header and her own department's entry
    assert "心血管内科病区" in body and "骨科病区" not in body


def test_filtering_by_another_department_gives_nothing_O3(personas, roster, org):
    response = client_for(personas["cardio_nurse"]).get(
        "/api/org/roster/", {"department": org["ortho"].pk}
    )
    assert response.json()["count"] == 0


def test_service_centre_and_medical_affairs_see_all_O3(personas, roster):
    for persona in ("agent", "medical_affairs"):
        assert client_for(personas[persona]).get("/api/org/roster/").json()["count"] == 2


def test_leadership_and_auditor_see_no_roster_rows_O3(personas, roster):
    for persona in ("leader", "auditor"):
        client = client_for(personas[persona])
        assert client.get("/org/roster/").status_code == 403
        assert client.get("/api/org/roster/").status_code == 403


def test_refused_api_writes_change_nothing_O3(personas, roster):
    client = client_for(personas["cardio_nurse"])
    before = list(RosterEntry.objects.order_by("pk").values())
    assert client.delete(f"/api/org/roster/{roster['ortho'].pk}/").status_code in (403, 405)
    assert client.post(
        "/api/org/roster/", {"note": "x"}, content_type="application/json"
    ).status_code in (403, 405)
    assert list(RosterEntry.objects.order_by("pk").values()) == before
    assert not AuditEvent.objects.filter(
        object_type="org.rosterentry", action__in=["update", "delete"]
    ).exists()


def test_unauthenticated_api_gets_chinese_error(roster):
    response = Client().get("/api/org/roster/")
    assert response.status_code == 403
    assert response.json() == {"detail": "未登录或令牌无效"}


def test_token_authentication_for_system_clients(personas, roster):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=personas["cardio_nurse"])
    response = Client().get("/api/org/roster/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200 and response.json()["count"] == 1


def test_on_duty_includes_a_night_shift_started_yesterday_O4(personas, org):
    night = ShiftPattern.objects.create(
        code="YE", name="夜班", start=dt.time(23), end=dt.time(7, 30)
    )
    early = ShiftPattern.objects.create(
        code="ZAO", name="早班", start=dt.time(7, 30), end=dt.time(15, 30)
    )
    a = RosterEntry.objects.create(
        date=dt.date(2026, 11, 23), shift=night, staff=personas["agent"], department=org["service"]
    )
    b = RosterEntry.objects.create(
        date=dt.date(2026, 11, 24), shift=early, staff=personas["agent"], department=org["service"]
    )
    assert list(RosterEntry.objects.on_duty(dt.datetime(2026, 11, 24, 2, 0))) == [a]
    assert list(RosterEntry.objects.on_duty(dt.datetime(2026, 11, 24, 7, 30))) == [b]
    assert list(RosterEntry.objects.on_duty(dt.datetime(2026, 11, 23, 22, 59))) == []

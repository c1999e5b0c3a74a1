"""S4 delivery receipts and E6 opt-out replies through the gateway's callbacks."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.test import Client

from careloop.followup.choices import TaskStatus
from careloop.followup.models import FollowUpTask
from careloop.followup.planner import plan
from careloop.notify import services
from careloop.notify.choices import OutboxStatus
from careloop.notify.models import InboundSms, OutboxMessage
from careloop.patients.choices import EventKind
from careloop.patients.models import PatientEvent

pytestmark = pytest.mark.django_db
TZ = dt.timezone(dt.timedelta(hours=8))
TOKEN = "cb-token-1234"


@pytest.fixture(autouse=True)
def _token(settings):
    settings.SMS_CALLBACK_TOKEN = TOKEN


@pytest.fixture
def sent(db):
    with time_machine.travel(dt.datetime(2026, 5, 6, 10, 0, tzinfo=TZ), tick=False):
        message = services.queue_sms("13800138000", "您好")
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.SENT, gateway_message_id="GW-77"
    )
    return message


def post_json(path, data, **extra):
    return Client().post(path, json.dumps(data), content_type="application/json", **extra)


@pytest.mark.parametrize("headers", [{}, {"HTTP_X_CARELOOP_TOKEN": "wrong"}])
def test_callback_without_the_token_is_403_and_changes_nothing(sent, headers):
    response = post_json("/notify/sms/callback/", {"id": "GW-77", "status": "delivered"}, **headers)
    assert response.status_code == 403
    assert response.content == b""
    sent.refresh_from_db()
    assert sent.status == OutboxStatus.SENT


def test_callback_with_no_token_configured_is_always_403(sent, settings):
    settings.SMS_CALLBACK_TOKEN = ""
    response = post_json(
        "/notify/sms/callback/", {"id": "GW-77", "status": "delivered"}, HTTP_X_CARELOOP_TOKEN=""
    )
    assert response.status_code == 403


def test_delivered_receipt_by_header_json_S4(sent):
    with time_machine.travel(dt.datetime(2026, 5, 6, 10, 2, tzinfo=TZ), tick=False):
        response = post_json(
            "/notify/sms/callback/",
            {"id": "GW-77", "status": "delivered"},
            HTTP_X_CARELOOP_TOKEN=TOKEN,
        )
    assert response.status_code == 200 and response.json() == {"ok": True, "updated": 1}
    sent.refresh_from_db()
    assert sent.status == OutboxStatus.DELIVERED
    assert sent.delivered_at == dt.datetime(2026, 5, 6, 10, 2, tzinfo=TZ)


def test_failed_receipt_by_query_token_form_S4(sent):
    response = Client().post(
        f"/notify/sms/callback/?token={TOKEN}",
        {"id": "GW-77", "status": "failed", "error": "空号"},
    )
    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == OutboxStatus.FAILED
    assert sent.last_error == "网关回执：发送失败 空号"


def test_unknown_id_and_bad_status(sent):
    ok = {"HTTP_X_CARELOOP_TOKEN": TOKEN}
    assert (
        post_json("/notify/sms/callback/", {"id": "NOPE", "status": "delivered"}, **ok).status_code
        == 404
    )
    bad = post_json("/notify/sms/callback/", {"id": "GW-77", "status": "maybe"}, **ok)
    assert bad.status_code == 400 and "maybe" in bad.json()["error"]
    assert (
        Client()
        .post("/notify/sms/callback/", "{", content_type="application/json", **ok)
        .status_code
        == 400
    )


@pytest.mark.parametrize("reply", ["TD", " td ", "T", "退订"])
def test_opt_out_reply_marks_the_patient_refusing_E6(make_visit, org, reply):
    visit = make_visit(org["cardio"], discharged="2026-05-01T10:00:00")
    patient = visit.patient
    response = post_json(
        "/notify/sms/inbound/",
        {"phone": "+86 138 0000 0001", "text": reply},
        HTTP_X_CARELOOP_TOKEN=TOKEN,
    )
    assert response.status_code == 200
    assert response.json() == {"ok": True, "opt_out": True, "matched_patients": 1}
    patient.refresh_from_db()
    assert patient.do_not_contact is True
    event = PatientEvent.objects.get(patient=patient, kind=EventKind.REFUSED)
    assert event.source == "sms" and event.detail["reason"] == "短信回复TD"
    inbound = InboundSms.objects.get()
    assert inbound.phone == "13800000001" and inbound.opt_out and inbound.matched_patients == 1


def test_other_replies_are_only_recorded(make_visit, org):
    visit = make_visit(org["cardio"], discharged="2026-05-01T10:00:00")
    response = post_json(
        "/notify/sms/inbound/",
        {"phone": "13800000001", "text": "谢谢"},
        HTTP_X_CARELOOP_TOKEN=TOKEN,
    )
    assert response.json() == {"ok": True, "opt_out": False, "matched_patients": 1}
    visit.patient.refresh_from_db()
    assert visit.patient.do_not_contact is False
    assert (
        post_json("/notify/sms/inbound/", {"phone": "13800000001", "text": "TD"}).status_code == 403
    )


def test_td_then_planner_excludes_open_tasks_with_E6(make_visit, org, activate):
    with time_machine.travel(dt.datetime(2026, 5, 10, 9, 0, tzinfo=TZ), tick=False):
        activate("kf-phone")
        visit = make_visit(org["cardio"], discharged="2026-05-05T10:00:00")
        other = make_visit(org["ortho"], discharged="2026-05-05T10:00:00")
        plan()
        open_task = FollowUpTask.objects.get(visit=visit)
        assert open_task.status in (TaskStatus.PLANNED, TaskStatus.DUE)
        queued = services.queue_sms("13800000001", "问候", patient=visit.patient)
        services.receive_reply("13800000001", "TD")
        plan()
    open_task.refresh_from_db()
    assert (open_task.status, open_task.exclusion) == (TaskStatus.EXCLUDED, "E6")
    assert FollowUpTask.objects.get(visit=other).exclusion == ""
    queued.refresh_from_db()
    assert queued.status == OutboxStatus.CANCELLED

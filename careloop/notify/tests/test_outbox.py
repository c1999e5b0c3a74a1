"""S4: the outbox — queued after commit, sent by the job, retried with backoff, failed at last,
claimed once; F6: never sent between 20:00 and 08:00; E6: nothing to a refusing patient."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connections

from careloop.jobs.models import ScheduledJob
from careloop.notify import services
from careloop.notify.choices import OutboxStatus
from careloop.notify.models import OutboxMessage
from careloop.notify.tests.conftest import sent_lines
from careloop.patients.models import Patient

TZ = dt.timezone(dt.timedelta(hours=8))


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


@pytest.fixture
def patient(db):
    return Patient.objects.create(patient_no="N001", name="王小红", sex="2")


@pytest.mark.django_db
def test_queue_is_idempotent_and_asks_for_a_send_after_commit_S4(
    patient, django_capture_on_commit_callbacks
):
    with time_machine.travel(local(2026, 5, 6, 10, 0), tick=False):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            first = services.queue_sms("13800138000", "您好", patient=patient, request_key="k1")
        again = services.queue_sms("13800138000", "您好", patient=patient, request_key="k1")
        assert again.pk == first.pk
        assert OutboxMessage.objects.count() == 1
        assert len(callbacks) == 1
        assert ScheduledJob.objects.get(name="notify-outbox").next_run_at == local(2026, 5, 6, 10)
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.QUEUED
    assert message.phone == "13800138000" and message.masked_phone == "138****8000"
    assert message.next_attempt_at == local(2026, 5, 6, 10, 0)


@pytest.mark.django_db
def test_the_phone_is_stored_encrypted_P3(patient):
    services.queue_sms("13800138000", "您好", patient=patient)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM notify_outboxmessage")
        (raw,) = cursor.fetchone()
    assert raw.startswith("enc1:") and "13800138000" not in raw


@pytest.mark.django_db
def test_file_gateway_sends_and_marks_sent(patient, sms_file):
    with time_machine.travel(local(2026, 5, 6, 9, 30), tick=False):
        message = services.queue_sms("13800138000", "王小红女士您好", patient=patient)
        assert services.send_due()["sent"] == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert message.attempts == 1
    assert message.sent_at == local(2026, 5, 6, 9, 30)
    assert message.gateway_message_id == f"file-{message.pk}"
    assert sent_lines(sms_file) == [
        {
            "id": message.pk,
            "phone": "13800138000",
            "text": "王小红女士您好",
            "at": "2026-05-06T09:30:00+08:00",
        }
    ]


@pytest.mark.django_db
def test_queued_at_night_waits_until_eight_F6(patient, sms_file):
    with time_machine.travel(local(2026, 5, 6, 21, 0), tick=False) as clock:
        message = services.queue_sms("13800138000", "夜间短信", patient=patient)
        assert message.next_attempt_at == local(2026, 5, 7, 8, 0)
        assert services.send_due()["sent"] == 0
        clock.move_to(local(2026, 5, 7, 7, 59))
        assert services.send_due()["sent"] == 0
        clock.move_to(local(2026, 5, 7, 8, 0))
        assert services.send_due()["sent"] == 1
    assert len(sent_lines(sms_file)) == 1


@pytest.mark.django_db
def test_due_at_1959_but_run_at_2000_waits_until_next_morning_F6(patient, sms_file):
    with time_machine.travel(local(2026, 5, 6, 19, 59), tick=False) as clock:
        message = services.queue_sms("13800138000", "傍晚短信", patient=patient)
        clock.move_to(local(2026, 5, 6, 20, 0, 30))
        summary = services.send_due()
    assert summary["sent"] == 0 and summary["waiting"] == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.QUEUED and message.attempts == 0
    assert message.next_attempt_at == local(2026, 5, 7, 8, 0)
    assert sent_lines(sms_file) == []


@pytest.mark.django_db
def test_retry_after_500_then_sent_on_200_S4(patient, sms_platform):
    sms_platform.responses.append((500, "busy"))
    with time_machine.travel(local(2026, 5, 6, 10, 0), tick=False) as clock:
        message = services.queue_sms("13800138000", "重试短信", patient=patient)
        assert services.send_due()["retrying"] == 1
        message.refresh_from_db()
        assert (message.status, message.attempts) == (OutboxStatus.QUEUED, 1)
        assert message.next_attempt_at == local(2026, 5, 6, 10, 1)
        assert "HTTP 500" in message.last_error
        clock.move_to(local(2026, 5, 6, 10, 0, 59))
        assert services.send_due()["sent"] == 0  # not due yet
        clock.move_to(local(2026, 5, 6, 10, 1))
        assert services.send_due()["sent"] == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert message.attempts == 2
    assert message.gateway_message_id == "GW-1"
    assert message.last_error == ""
    assert len(sms_platform.requests) == 2


@pytest.mark.django_db
def test_five_failures_back_off_then_fail_S4(patient, sms_platform, settings):
    settings.SMS_MAX_ATTEMPTS = 5
    sms_platform.default = (500, "down")
    start = local(2026, 5, 6, 10, 0)
    with time_machine.travel(start, tick=False) as clock:
        message = services.queue_sms("13800138000", "失败短信", patient=patient)
        schedule = []
        for _ in range(5):
            message.refresh_from_db()
            clock.move_to(message.next_attempt_at)
            services.send_due()
            message.refresh_from_db()
            schedule.append((message.status, message.attempts, message.next_attempt_at))
    # Tried at 10:00, 10:01, 10:03, 10:07, 10:15 — then failed for good.
    assert schedule == [
        (OutboxStatus.QUEUED, 1, local(2026, 5, 6, 10, 1)),
        (OutboxStatus.QUEUED, 2, local(2026, 5, 6, 10, 3)),
        (OutboxStatus.QUEUED, 3, local(2026, 5, 6, 10, 7)),
        (OutboxStatus.QUEUED, 4, local(2026, 5, 6, 10, 15)),
        (OutboxStatus.FAILED, 5, local(2026, 5, 6, 10, 15)),
    ]
    assert len(sms_platform.requests) == 5
    with time_machine.travel(local(2026, 5, 6, 11, 0), tick=False):
        assert services.send_due()["sent"] == 0
    assert len(sms_platform.requests) == 5


@pytest.mark.django_db
def test_success_rule_body_check_fails_then_succeeds(patient, sms_platform):
    sms_platform.responses.append((200, '{"code":99,"msg":"签名未报备"}'))
    with time_machine.travel(local(2026, 5, 6, 10, 0), tick=False) as clock:
        message = services.queue_sms("13800138000", "规则", patient=patient)
        services.send_due()
        message.refresh_from_db()
        assert message.status == OutboxStatus.QUEUED and "签名未报备" in message.last_error
        clock.move_to(local(2026, 5, 6, 10, 1))
        services.send_due()
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT


@pytest.mark.django_db
def test_refusing_patient_is_cancelled_not_sent_E6(patient, sms_file):
    with time_machine.travel(local(2026, 5, 6, 10, 0), tick=False):
        message = services.queue_sms("13800138000", "问候", patient=patient)
        Patient.objects.filter(pk=patient.pk).update(do_not_contact=True)
        assert services.send_due()["cancelled"] == 1
        message.refresh_from_db()
        assert message.status == OutboxStatus.CANCELLED
        patient.refresh_from_db()
        later = services.queue_sms("13800138000", "再次问候", patient=patient)
        assert later.status == OutboxStatus.CANCELLED
    assert sent_lines(sms_file) == []


@pytest.mark.django_db
@time_machine.travel(local(2026, 5, 6, 10, 0), tick=False)
def test_claim_is_won_by_one_worker_only_S4(patient):
    message = services.queue_sms("13800138000", "一次", patient=patient)
    assert services.claim(message.pk, local(2026, 5, 6, 10, 0)) is True
    assert services.claim(message.pk, local(2026, 5, 6, 10, 0)) is False
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENDING, 1)


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_one_message_once_S4(sms_platform):
    patient = Patient.objects.create(patient_no="N002", name="赵六", sex="1")
    sms_platform.delay = 0.3
    with time_machine.travel(local(2026, 5, 6, 10, 0), tick=False):
        message = services.queue_sms("13800138001", "并发", patient=patient)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            with time_machine.travel(local(2026, 5, 6, 10, 0, 5), tick=False):
                barrier.wait(timeout=5)
                results.append(services.send_due())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert sorted(r["sent"] for r in results) == [0, 1]
    assert len(sms_platform.requests) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)


@pytest.mark.django_db
def test_stale_sending_returns_to_the_queue(patient, sms_file):
    with time_machine.travel(local(2026, 5, 6, 10, 0), tick=False) as clock:
        message = services.queue_sms("13800138000", "卡住", patient=patient)
        services.claim(message.pk, local(2026, 5, 6, 10, 0))
        clock.move_to(local(2026, 5, 6, 10, 5))
        assert services.send_due()["sent"] == 0
        clock.move_to(local(2026, 5, 6, 10, 11))
        summary = services.send_due()
    assert summary["recovered"] == 1 and summary["sent"] == 1


@pytest.mark.django_db
@time_machine.travel(local(2026, 5, 6, 10, 0), tick=False)
def test_retry_and_cancel_by_a_person(patient, make_user, org):
    from careloop.accounts.roles import Role

    user = make_user("sup", Role.SUPERVISOR, departments=[org["service"]])
    message = services.queue_sms("13800138000", "手工", patient=patient)
    services.cancel_message(message, by=user)
    message.refresh_from_db()
    assert message.status == OutboxStatus.CANCELLED
    with pytest.raises(services.NotifyError):
        services.cancel_message(message, by=user)
    services.retry_message(message, by=user)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.QUEUED, 0)

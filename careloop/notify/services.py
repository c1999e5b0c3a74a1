"""Named state changes of the SMS outbox (F6, S4, E6). Views, jobs and commands call these;
none writes the models directly.

Queuing writes a row and, after the transaction commits, asks the scheduler to run the
``notify-outbox`` job soon; only that job talks to the gateway (side effects after commit).
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from careloop.audit.choices import Action
from careloop.audit.services import record_event
from careloop.lib.masking import normalize_phone
from careloop.notify.choices import OPT_OUT_REPLIES, PLACEHOLDERS, OutboxStatus
from careloop.notify.defaults import DEFAULT_STAGE_TEMPLATE, RECOVERY_TEMPLATE
from careloop.notify.models import PLACEHOLDER_RE, InboundSms, OutboxMessage, SmsTemplate
from careloop.notify.rules import in_send_hours, next_send_time

logger = logging.getLogger("careloop.notify")

# A message left "sending" this long (the worker died mid-send) goes back to the queue.
STALE_SENDING = dt.timedelta(minutes=10)


class NotifyError(Exception):
    """A request the rules do not allow; the message is Chinese, for the user (S5)."""


# -- rendering -------------------------------------------------------------------------------


def render_text(body: str, context: dict) -> str:
    """Fill {患者姓名} and the other placeholders; an unknown one is an error naming it."""
    unknown = [n for n in PLACEHOLDER_RE.findall(body or "") if n not in PLACEHOLDERS]
    if unknown:
        raise NotifyError(
            "模板中有无法识别的占位符：" + "、".join(dict.fromkeys("{" + n + "}" for n in unknown))
        )
    return PLACEHOLDER_RE.sub(lambda m: str(context.get(m.group(1), "") or ""), body).strip()


def render_sms(template, context: dict) -> str:
    """``template`` is an ``SmsTemplate``/``LetterTemplate`` or a body string."""
    return render_text(getattr(template, "body", template), context)


def _chinese_date(value) -> str:
    if value is None:
        return ""
    day = timezone.localtime(value).date() if hasattr(value, "hour") else value
    return f"{day.year}年{day.month}月{day.day}日"


def sample_context() -> dict:
    """What a template preview fills in."""
    return {
        "患者姓名": "张三",
        "称呼": "先生",
        "医院": settings.HOSPITAL_NAME,
        "科室": "心血管内科",
        "链接": "https://example.invalid/s/abc123",
        "出院日期": _chinese_date(timezone.localdate()),
    }


# Apps above notify add placeholders here (surveys: {链接}, the Q4 survey link); notify does
# not import them. A provider takes (task, body) and returns the values it supplies.
CONTEXT_PROVIDERS: list = []


def register_context_provider(provider) -> None:
    if provider not in CONTEXT_PROVIDERS:
        CONTEXT_PROVIDERS.append(provider)


def sms_context_for_task(task, body: str = "") -> dict:
    """F10 style: the patient's name and title, the hospital, department and discharge date;
    with ``body``, what the registered providers add for it (a survey link only when the
    message has {链接}, so no invitation is issued for nothing)."""
    patient, visit = task.patient, task.visit
    context = {
        "患者姓名": patient.name,
        "称呼": patient.title,
        "医院": settings.HOSPITAL_NAME,
        "科室": task.department.name,
        "链接": "",
        "出院日期": _chinese_date(visit.discharged_at or visit.visit_at),
    }
    for provider in CONTEXT_PROVIDERS:
        context.update(provider(task, body) or {})
    return context


# -- queue -----------------------------------------------------------------------------------


def request_send() -> None:
    """Ask the worker to run the outbox job now (after the current transaction commits)."""
    from careloop.jobs.scheduler import request_soon

    transaction.on_commit(lambda: request_soon("notify-outbox"))


def queue_sms(
    phone: str,
    body: str,
    *,
    patient=None,
    task=None,
    template=None,
    by=None,
    request_key: str | None = None,
) -> OutboxMessage:
    """S4: put one SMS in the outbox. The same ``request_key`` returns the message queued
    before instead of a second one. A message to a patient who refused (E6) is kept, cancelled.
    F6: its first attempt is now, or 08:00 when queued in the quiet hours."""
    phone = normalize_phone(phone)
    body = (body or "").strip()
    if not phone:
        raise NotifyError("没有可用的手机号，短信未加入发送队列")
    if not body:
        raise NotifyError("短信内容不能为空")
    if request_key:
        found = OutboxMessage.objects.filter(request_key=request_key).first()
        if found is not None:
            return found
    now = timezone.now()
    refused = patient is not None and patient.do_not_contact
    values = {
        "phone": phone,
        "body": body,
        "patient": patient,
        "task": task,
        "template": template,
        "created_by": by,
        "created_at": now,
        "request_key": request_key or None,
        "next_attempt_at": next_send_time(timezone.localtime(now), 0),
        "status": OutboxStatus.CANCELLED if refused else OutboxStatus.QUEUED,
        "last_error": "患者已拒访（E6），不发送" if refused else "",
    }
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(**values)
    except IntegrityError:
        # Another worker queued the same request a moment ago.
        if request_key:
            found = OutboxMessage.objects.filter(request_key=request_key).first()
            if found is not None:
                return found
        raise
    if message.status == OutboxStatus.QUEUED:
        request_send()
    return message


def retry_message(message: OutboxMessage, *, by) -> None:
    """A failed or cancelled message goes back to the queue with fresh attempts."""
    if message.patient_id and message.patient.do_not_contact:
        raise NotifyError("该患者已拒访（E6），不能再发送短信")
    now = timezone.now()
    updated = OutboxMessage.objects.filter(
        pk=message.pk, status__in=[OutboxStatus.FAILED, OutboxStatus.CANCELLED]
    ).update(
        status=OutboxStatus.QUEUED,
        attempts=0,
        next_attempt_at=next_send_time(timezone.localtime(now), 0),
        last_error="",
    )
    if not updated:
        raise NotifyError("只有发送失败或已取消的短信可以重新发送")
    record_event(Action.UPDATE, actor=by, obj=message, message="重新发送短信")
    request_send()


def cancel_message(message: OutboxMessage, *, by) -> None:
    updated = OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.QUEUED).update(
        status=OutboxStatus.CANCELLED, last_error="已手工取消"
    )
    if not updated:
        raise NotifyError("只有待发送的短信可以取消")
    record_event(Action.UPDATE, actor=by, obj=message, message="取消短信")


# -- sending ---------------------------------------------------------------------------------


def claim(pk: int, now) -> bool:
    """S4: take one due message for sending. A conditional UPDATE, so of two workers that try
    at the same moment exactly one gets it."""
    return bool(
        OutboxMessage.objects.filter(
            pk=pk, status=OutboxStatus.QUEUED, next_attempt_at__lte=now
        ).update(status=OutboxStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )


def send_due(now=None, limit: int = 200, gateway=None) -> dict:
    """The ``notify-outbox`` job: send what is due, retry with backoff, never at night (F6)."""
    from careloop.notify.gateways import get_gateway

    now = now or timezone.now()
    summary = {"sent": 0, "retrying": 0, "failed": 0, "cancelled": 0}
    # A worker that died mid-send leaves its message "sending": try it again (at least once).
    summary["recovered"] = OutboxMessage.objects.filter(
        status=OutboxStatus.SENDING, claimed_at__lt=now - STALE_SENDING
    ).update(status=OutboxStatus.QUEUED, next_attempt_at=now)
    now_local = timezone.localtime(now)
    if not in_send_hours(now_local):
        morning = next_send_time(now_local, 0)
        summary["waiting"] = OutboxMessage.objects.filter(
            status=OutboxStatus.QUEUED, next_attempt_at__lt=morning
        ).update(next_attempt_at=morning)
        summary["next_send"] = morning.isoformat(timespec="minutes")
        return summary
    due = list(
        OutboxMessage.objects.filter(status=OutboxStatus.QUEUED, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if not due:
        return summary
    gateway = gateway or get_gateway()
    for pk in due:
        moment = max(timezone.now(), now)
        if not in_send_hours(timezone.localtime(moment)):
            break  # 20:00 struck while sending; the next run moves the rest to 08:00
        if not claim(pk, moment):
            continue
        message = OutboxMessage.objects.select_related("patient", "task").get(pk=pk)
        outcome = _send_one(message, gateway, moment)
        summary[outcome] += 1
    return summary


def _send_one(message: OutboxMessage, gateway, now) -> str:
    from careloop.notify.gateways import GatewayError

    if message.patient_id and message.patient.do_not_contact:
        OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.SENDING).update(
            status=OutboxStatus.CANCELLED, last_error="患者已拒访（E6），不发送"
        )
        return "cancelled"
    try:
        result = gateway.send(message)
    except Exception as exc:
        if not isinstance(exc, GatewayError):
            logger.exception("SMS #%s: unexpected gateway error", message.pk)
        return _failed(message, str(exc) or exc.__class__.__name__, now)
    sent_at = timezone.now()
    OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.SENDING).update(
        status=OutboxStatus.SENT,
        sent_at=sent_at,
        gateway_message_id=result.message_id,
        last_error="",
    )
    if message.task_id:
        _complete_task(message, sent_at)
    return "sent"


def _failed(message: OutboxMessage, error: str, now) -> str:
    attempts = message.attempts
    if attempts >= settings.SMS_MAX_ATTEMPTS:
        OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.SENDING).update(
            status=OutboxStatus.FAILED, last_error=error[:2000]
        )
        logger.warning("SMS #%s failed after %d attempts: %s", message.pk, attempts, error)
        return "failed"
    OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.SENDING).update(
        status=OutboxStatus.QUEUED,
        last_error=error[:2000],
        next_attempt_at=next_send_time(timezone.localtime(now), attempts),
    )
    return "retrying"


def _complete_task(message: OutboxMessage, at) -> None:
    """F7: an SMS stage is done when its message has been sent (not merely queued: a message
    that fails or is cancelled leaves the task open for a supervisor)."""
    from careloop.followup.services import ServiceError, complete_task

    task = message.task
    if task is None or not task.is_open:
        return
    try:
        complete_task(task, by=None, at=at)
    except ServiceError as exc:
        logger.info("SMS #%s: task %s not completed: %s", message.pk, task.pk, exc)


# -- gateway callbacks -----------------------------------------------------------------------

DELIVERED_WORDS = {"delivered", "delivrd", "success", "ok", "0"}
FAILED_WORDS = {"failed", "fail", "undeliv", "undelivered", "rejected", "expired", "error"}


def record_delivery(gateway_message_id: str, status: str, error: str = "") -> int:
    """S4: the gateway's delivery receipt. Returns the number of messages updated."""
    gateway_message_id = (gateway_message_id or "").strip()
    word = (status or "").strip().lower()
    if not gateway_message_id:
        raise NotifyError("缺少短信编号 id")
    if word in DELIVERED_WORDS:
        values = {"status": OutboxStatus.DELIVERED, "delivered_at": timezone.now()}
    elif word in FAILED_WORDS:
        values = {
            "status": OutboxStatus.FAILED,
            "last_error": ("网关回执：发送失败 " + (error or "")).strip()[:2000],
        }
    else:
        raise NotifyError(f"无法识别的回执状态“{status}”，应为 delivered 或 failed")
    return OutboxMessage.objects.filter(
        gateway_message_id=gateway_message_id,
        status__in=[OutboxStatus.SENDING, OutboxStatus.SENT, OutboxStatus.DELIVERED],
    ).update(**values)


def is_opt_out(text: str) -> bool:
    return re.sub(r"\s+", "", text or "").lower() in OPT_OUT_REPLIES


def receive_reply(phone: str, text: str, *, at=None) -> InboundSms:
    """A patient's reply. "TD" (also "T", "退订") is a refusal (E6) of every patient with that
    number: recorded through ``record_refusal``, so the planner excludes their open tasks, and
    the messages still queued for the number are cancelled."""
    from careloop.patients.models import Patient, PatientPhone
    from careloop.patients.services import record_refusal

    phone = normalize_phone(phone)
    if not phone:
        raise NotifyError("缺少手机号 phone")
    bidx = PatientPhone._meta.get_field("number_bidx").hash(phone)
    patient_ids = set(
        PatientPhone.objects.filter(number_bidx=bidx).values_list("patient_id", flat=True)
    ) | set(
        OutboxMessage.objects.filter(phone_bidx=bidx, patient__isnull=False).values_list(
            "patient_id", flat=True
        )
    )
    opt_out = is_opt_out(text)
    with transaction.atomic():
        inbound = InboundSms.objects.create(
            phone=phone,
            text=(text or "")[:2000],
            received_at=at or timezone.now(),
            matched_patients=len(patient_ids),
            opt_out=opt_out,
        )
        if opt_out:
            for patient in Patient.objects.filter(pk__in=patient_ids).order_by("pk"):
                record_refusal(patient, source="sms", reason="短信回复TD")
            OutboxMessage.objects.filter(phone_bidx=bidx, status=OutboxStatus.QUEUED).update(
                status=OutboxStatus.CANCELLED, last_error="对方已回复退订"
            )
    return inbound


# -- SMS stages ------------------------------------------------------------------------------


def template_for_stage(stage) -> SmsTemplate | None:
    """The stage's call script when it names an SMS template; F4's after-recovery greeting the
    recovery greeting; otherwise the follow-up greeting."""
    active = SmsTemplate.objects.filter(is_active=True)
    if stage.script:
        found = active.filter(code=stage.script).first()
        if found is not None:
            return found
    code = RECOVERY_TEMPLATE if stage.after_recovery else DEFAULT_STAGE_TEMPLATE
    return active.filter(code=code).first() or active.filter(code=DEFAULT_STAGE_TEMPLATE).first()


def stage_request_key(task) -> str:
    return f"followup-task-{task.pk}"


def queue_stage_messages(today=None, limit: int = 2000) -> dict:
    """The ``notify-sms-stages`` job (F5 channel SMS): every due SMS task whose window is open
    and that has no message yet gets one, keyed by the task so re-runs never duplicate. The task
    is completed when the message is sent (``send_due``). Patients without a phone, or who
    refused, are left to the planner (E6)."""
    from careloop.followup.choices import Channel, TaskStatus
    from careloop.followup.models import FollowUpTask

    today = today or timezone.localdate()
    tasks = (
        FollowUpTask.objects.filter(
            channel=Channel.SMS,
            status=TaskStatus.DUE,
            window_start__lte=today,
            window_end__gte=today,
        )
        .filter(~Exists(OutboxMessage.objects.filter(task=OuterRef("pk"))))
        .select_related("patient", "visit", "department", "stage")
        .prefetch_related("patient__phones")
        .order_by("pk")[:limit]
    )
    summary = {"queued": 0, "no_phone": 0, "refused": 0, "no_template": 0}
    templates: dict[int, SmsTemplate | None] = {}
    for task in tasks:
        patient = task.patient
        if patient.do_not_contact:
            summary["refused"] += 1
            continue
        phone = patient.preferred_phone()
        if phone is None or not phone.number:
            summary["no_phone"] += 1
            continue
        if task.stage_id not in templates:
            templates[task.stage_id] = template_for_stage(task.stage)
        template = templates[task.stage_id]
        if template is None:
            summary["no_template"] += 1
            continue
        try:
            body = render_sms(template, sms_context_for_task(task, template.body))
            queue_sms(
                phone.number,
                body,
                patient=patient,
                task=task,
                template=template,
                request_key=stage_request_key(task),
            )
        except NotifyError as exc:
            logger.warning("SMS stage task %s not queued: %s", task.pk, exc)
            continue
        summary["queued"] += 1
    return summary

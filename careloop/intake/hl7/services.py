"""P4.2 dead-letter actions, as named services (the page calls these; S2 audits both)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from careloop.audit.choices import Action
from careloop.audit.services import record_event
from careloop.intake.choices import MessageStatus
from careloop.intake.hl7.processing import Ack, Processor
from careloop.intake.models import HL7Message


class NotADeadLetter(Exception):
    """Only a failed message can be retried or discarded (someone else may have acted)."""


def retry_message(message: HL7Message, *, by=None) -> Ack:
    """Process the stored text again on the same row (attempts + 1), all or nothing (S4):
    success makes it applied, another failure keeps it failed with the new reason."""
    if message.status != MessageStatus.FAILED:
        raise NotADeadLetter(message.get_status_display())
    with transaction.atomic():  # the audit event commits with the retry's result
        ack = Processor().retry(message)
        message.refresh_from_db()
        record_event(
            Action.UPDATE,
            actor=by,
            obj=message,
            changes={"status": [MessageStatus.FAILED.value, message.status]},
            message=f"重试 HL7 消息 {message.control_id}：{ack.code} {ack.text}".strip(),
        )
    return ack


def discard_message(message: HL7Message, *, by=None, note: str = "") -> None:
    """A person decides a dead letter is not to be applied. A conditional update, so two people
    acting at once cannot both succeed; the HIS resending the same control id later is then
    acknowledged as a duplicate and not applied."""
    with transaction.atomic():
        done = HL7Message.objects.filter(pk=message.pk, status=MessageStatus.FAILED).update(
            status=MessageStatus.DISCARDED, processed_at=timezone.now()
        )
        if not done:
            raise NotADeadLetter(message.get_status_display())
        message.refresh_from_db()
        record_event(
            Action.UPDATE,
            actor=by,
            obj=message,
            changes={"status": [MessageStatus.FAILED.value, MessageStatus.DISCARDED.value]},
            message=f"丢弃 HL7 死信 {message.control_id}" + (f"：{note}" if note else ""),
        )

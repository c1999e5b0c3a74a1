"""Issue 6 (item 6): the staff inbox — in-app notifications with an unread count, and an
optional SMS through the outbox for staff who asked for one.

Other apps call ``notify`` from inside their own transaction (a case registered, a disposal
form due, an escalation): the rows commit or roll back with the event they describe. The SMS
goes through ``queue_sms``, which already sends only after commit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from careloop.notify.models import Notification
from careloop.notify.services import NotifyError, queue_sms

logger = logging.getLogger("careloop.notify")

SMS_PREFIX = "【客服中心】"
# Under 200 characters: the gateway bills a long SMS as several, and a staff alert only needs
# to say what happened; the details are in the inbox.
SMS_MAX_CHARS = 199


def sms_text(title: str, body: str = "") -> str:
    text = f"{SMS_PREFIX}{title.strip()}"
    body = " ".join((body or "").split())
    if body:
        text = f"{text}：{body}"
    if len(text) > SMS_MAX_CHARS:
        text = text[: SMS_MAX_CHARS - 1] + "…"
    return text


def _distinct_active(users: Iterable) -> list:
    seen: set[int] = set()
    found = []
    for user in users:
        if user is None or user.pk is None or not user.is_active or user.pk in seen:
            continue
        seen.add(user.pk)
        found.append(user)
    return found


def _create(user, values: dict, key: str | None) -> tuple[Notification, bool]:
    try:
        # A savepoint, so a lost race on the key leaves the caller's transaction usable.
        with transaction.atomic():
            return Notification.objects.create(recipient=user, key=key, **values), True
    except IntegrityError:
        if key is None:
            raise
        found = Notification.objects.filter(recipient=user, key=key).first()
        if found is None:
            raise
        return found, False


def _queue_staff_sms(user, notification: Notification) -> None:
    phone = user.sms_alert_phone
    if not phone:
        return
    try:
        queue_sms(
            phone,
            sms_text(notification.title, notification.body),
            by=None,
            request_key=f"staff:{notification.pk}",
        )
    except NotifyError as exc:
        # The inbox row is what matters; a missing SMS must not undo it.
        logger.warning("Staff SMS for notification %s not queued: %s", notification.pk, exc)


def notify(
    users,
    *,
    title: str,
    body: str = "",
    url: str = "",
    kind: str = "",
    key: str | None = None,
    sms: bool = False,
) -> list[Notification]:
    """One notification per distinct active user in ``users`` (None and duplicates skipped).

    ``key`` de-duplicates per recipient: a second call with the same key returns the row made
    the first time and creates (and texts) nothing. With ``sms``, a user who turned on SMS
    alerts and has a mobile also gets one SMS, queued in the outbox keyed by the notification.
    """
    recipients = _distinct_active(users)
    if not recipients:
        return []
    key = key or None
    existing: dict[int, Notification] = {}
    if key is not None:
        existing = {
            n.recipient_id: n
            for n in Notification.objects.filter(
                key=key, recipient_id__in=[u.pk for u in recipients]
            )
        }
    values = {
        "title": title[:200],
        "body": body or "",
        "url": (url or "")[:300],
        "kind": (kind or "")[:30],
        "created_at": timezone.now(),
    }
    result = []
    for user in recipients:
        notification = existing.get(user.pk)
        created = False
        if notification is None:
            notification, created = _create(user, values, key)
        if created and sms:
            _queue_staff_sms(user, notification)
        result.append(notification)
    return result


def unread(user):
    return Notification.objects.filter(recipient=user, read_at__isnull=True)


def unread_count(user) -> int:
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    return unread(user).count()


def mark_read(user, ids=None) -> int:
    """Mark the user's unread notifications (all, or those of ``ids``) read; only ever the
    user's own rows. Returns the number of rows changed."""
    qs = unread(user)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())

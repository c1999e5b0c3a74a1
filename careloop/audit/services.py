"""S2: one call to record an audit event, and the registry of models whose changes are logged.

Encrypted fields are written masked (never plaintext); password hashes and secrets not at all.
"""

from __future__ import annotations

import datetime
import decimal
import logging
import uuid

from django.db import models

from careloop.audit.choices import Action
from careloop.audit.context import current
from careloop.audit.models import AuditEvent

logger = logging.getLogger("careloop.audit")

_REGISTRY: dict[type[models.Model], dict] = {}
ALWAYS_EXCLUDED = {"password", "totp_secret", "last_login"}


def register(model: type[models.Model], exclude: tuple[str, ...] = ()) -> None:
    """Log create/update/delete of ``model`` with before/after values."""
    _REGISTRY[model] = {"exclude": set(exclude) | ALWAYS_EXCLUDED}


def registered(model) -> dict | None:
    return _REGISTRY.get(model)


def _client_ip(request) -> str | None:
    from axes.helpers import get_client_ip_address

    try:
        return get_client_ip_address(request) or None
    except Exception:
        return request.META.get("REMOTE_ADDR") or None


def _resolve_actor(request, actor):
    if actor is not None:
        return actor
    user = getattr(request, "user", None) if request is not None else None
    if user is not None and getattr(user, "is_authenticated", False):
        return user
    return None


def record_event(
    action: str,
    *,
    request=None,
    actor=None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    changes: dict | None = None,
    message: str = "",
    actor_name: str = "",
) -> AuditEvent:
    """Write one audit event. ``request`` and ``actor`` default to the current context."""
    ctx = current()
    if request is None and ctx is not None:
        request = ctx.request
    user = _resolve_actor(request, actor)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk or "")
        object_repr = object_repr or str(obj)[:200]
    name = (
        actor_name or (user.get_username() if user is not None else "") or (ctx.name if ctx else "")
    )
    event = AuditEvent(
        action=Action(action),
        actor_id=user.pk if user is not None else (ctx.user_id if ctx else None),
        actor_name=name[:150],
        object_type=object_type,
        object_id=object_id[:64],
        object_repr=object_repr[:200],
        changes=changes or {},
        message=message,
    )
    if request is not None:
        event.ip = _client_ip(request)
        event.user_agent = request.META.get("HTTP_USER_AGENT", "")[:300]
        event.path = request.get_full_path()[:300]
    event.save()
    return event


def _plain(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return str(value)


def snapshot(instance: models.Model) -> dict:
    """Field values for the log: encrypted fields masked, excluded fields left out."""
    from careloop.core.fields import EncryptedTextField

    conf = registered(type(instance)) or {"exclude": ALWAYS_EXCLUDED}
    data = {}
    for field in instance._meta.concrete_fields:
        if field.name in conf["exclude"] or field.attname in conf["exclude"]:
            continue
        if field.name.endswith("_bidx"):
            continue
        if isinstance(field, EncryptedTextField):
            data[field.name] = field.masked(instance)
        else:
            data[field.name] = _plain(getattr(instance, field.attname))
    return data


def diff(before: dict, after: dict) -> dict:
    return {
        k: [before.get(k), after.get(k)]
        for k in after.keys() | before.keys()
        if before.get(k) != after.get(k)
    }

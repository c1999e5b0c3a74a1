"""Who is acting now: set per request by the middleware, per command by `acting_as`."""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class Actor:
    request: object | None = None
    name: str = ""
    user_id: int | None = None


_current: ContextVar[Actor | None] = ContextVar("careloop_audit_actor", default=None)


def current() -> Actor | None:
    return _current.get()


@contextlib.contextmanager
def acting_as(actor: Actor):
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)

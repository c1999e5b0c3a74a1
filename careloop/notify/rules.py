"""The SMS sending rules as plain functions (F6, S4): send hours and retry backoff."""

from __future__ import annotations

import datetime as dt

SEND_FROM = dt.time(8, 0)
SEND_UNTIL = dt.time(20, 0)


def backoff(attempt: int) -> dt.timedelta:
    """S4: after the n-th failed attempt wait 2**(n-1) minutes (1, 2, 4, 8 …); none before the
    first attempt."""
    if attempt <= 0:
        return dt.timedelta(0)
    return dt.timedelta(minutes=2 ** (attempt - 1))


def in_send_hours(
    moment_local: dt.datetime, quiet_start: dt.time = SEND_UNTIL, quiet_end: dt.time = SEND_FROM
) -> bool:
    """F6: SMS is never sent outside 08:00–20:00 (20:00 itself is already quiet)."""
    return quiet_end <= moment_local.time() < quiet_start


def next_send_time(
    now_local: dt.datetime,
    attempt: int = 0,
    quiet_start: dt.time = SEND_UNTIL,
    quiet_end: dt.time = SEND_FROM,
) -> dt.datetime:
    """F6, S4: when a message that has had ``attempt`` failed attempts may be tried next.

    The backoff is added to ``now_local`` (a local datetime, aware or naive); a moment that
    falls in the quiet hours moves to the next ``quiet_end`` (08:00), the same morning when it
    is before 08:00, the next morning when it is 20:00 or later."""
    candidate = now_local + backoff(attempt)
    if in_send_hours(candidate, quiet_start, quiet_end):
        return candidate
    morning = candidate.replace(
        hour=quiet_end.hour, minute=quiet_end.minute, second=0, microsecond=0
    )
    if candidate.time() >= quiet_start:
        morning += dt.timedelta(days=1)
    return morning

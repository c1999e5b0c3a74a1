"""C3 deadline engine, as plain functions over datetimes and the F6 working calendar.

A rule says "N calendar days", "N working days" or "N hours" from the moment a clock starts
(a case registered, a disposal form handed to a step, an escalation raised). Working days count
on the hospital's calendar (``WorkCalendar``: official holidays and adjusted working days, with
the hospital's overrides): N working days after a moment is the same time of day on the N-th
working day after that moment's date, so a complaint registered on the eve of the National Day
holiday is not due in the middle of it. Calendar days and hours are plain arithmetic.

A clock is "near" its deadline once ``warn_hours`` remain; past the deadline it is overdue and
escalates: first to the service supervisor, then, when ``second_after`` more units have passed
unanswered, to medical affairs (seed 001 四 / SPEC C3).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from careloop.lib.workdays import WorkCalendar

CALENDAR_DAYS = "calendar_days"
WORKING_DAYS = "working_days"
HOURS = "hours"

OK, NEAR, OVERDUE, DONE = "ok", "near", "overdue", "done"


@dataclass(frozen=True)
class DeadlineSpec:
    amount: int
    unit: str = CALENDAR_DAYS
    warn_hours: int = 24
    # Units after the deadline when the second escalation (medical affairs) fires; 0 = never.
    second_after: int = 2


def add(start: dt.datetime, amount: int, unit: str, cal: WorkCalendar) -> dt.datetime:
    """The moment ``amount`` ``unit`` after ``start`` (an aware datetime in local time)."""
    if amount < 0:
        raise ValueError("amount must not be negative")
    if unit == HOURS:
        return start + dt.timedelta(hours=amount)
    if unit == CALENDAR_DAYS:
        return _same_time_on(start, start.date() + dt.timedelta(days=amount))
    if unit == WORKING_DAYS:
        return _same_time_on(start, cal.add_workdays(start.date(), amount))
    raise ValueError(f"unknown unit {unit!r}")


def _same_time_on(start: dt.datetime, day: dt.date) -> dt.datetime:
    naive = dt.datetime.combine(day, start.timetz().replace(tzinfo=None))
    return naive.replace(tzinfo=start.tzinfo) if start.tzinfo else naive


def due(start: dt.datetime, spec: DeadlineSpec, cal: WorkCalendar) -> dt.datetime:
    return add(start, spec.amount, spec.unit, cal)


def second_due(deadline: dt.datetime, spec: DeadlineSpec, cal: WorkCalendar):
    """When an unanswered overdue item goes on to medical affairs; None when the rule never
    escalates twice."""
    if spec.second_after <= 0:
        return None
    return add(deadline, spec.second_after, spec.unit, cal)


def state(
    deadline: dt.datetime | None, now: dt.datetime, warn_hours: int, done: bool = False
) -> str:
    if done:
        return DONE
    if deadline is None:
        return OK
    if now >= deadline:
        return OVERDUE
    if now >= deadline - dt.timedelta(hours=warn_hours):
        return NEAR
    return OK


def escalation_level(
    deadline: dt.datetime | None, second: dt.datetime | None, now: dt.datetime
) -> int:
    """0 before the deadline; 1 (service supervisor) once overdue; 2 (medical affairs) once
    ``second`` has passed too."""
    if deadline is None or now < deadline:
        return 0
    if second is not None and now >= second:
        return 2
    return 1

"""C3 deadline engine (careloop/cases/deadlines.py) as pure functions, on the real 2026 calendar
(careloop.calendars.services.get_calendar): National Day 2026-10-01..07 off, Mid-Autumn
2026-09-25..27 off, Saturday 2026-10-10 an adjusted working day."""

from __future__ import annotations

import datetime as dt

import pytest

from careloop.cases import deadlines
from careloop.cases.deadlines import CALENDAR_DAYS, HOURS, WORKING_DAYS, DeadlineSpec
from careloop.cases.tests.conftest import at

pytestmark = pytest.mark.django_db

ONE_SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def cal():
    from careloop.calendars.services import get_calendar

    return get_calendar()


def test_the_2026_calendar_has_the_autumn_holidays_the_deadlines_rely_on_F6(cal):
    # Checked first: the expected deadlines below are only right if the calendar says this.
    start = dt.date(2026, 9, 24)
    days = [start + dt.timedelta(days=i) for i in range(22)]
    working = [d.isoformat() for d in days if cal.is_workday(d)]
    assert working == [
        "2026-09-24",
        "2026-09-28", "2026-09-29", "2026-09-30",
        "2026-10-08", "2026-10-09", "2026-10-10",
        "2026-10-12", "2026-10-13", "2026-10-14", "2026-10-15",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("start", "amount", "unit", "expected"),
    [
        # C3: 7 calendar days run straight through National Day.
        ("2026-09-29 10:00", 7, CALENDAR_DAYS, "2026-10-06 10:00"),
        # 7 working days: 09-30, 10-08, 10-09, 10-10 (adjusted Saturday), 10-12, 10-13, 10-14.
        ("2026-09-29 10:00", 7, WORKING_DAYS, "2026-10-14 10:00"),
        ("2026-09-29 10:00", 3, CALENDAR_DAYS, "2026-10-02 10:00"),
        # Three working days from the Thursday before Mid-Autumn: 09-28, 09-29, 09-30.
        ("2026-09-24 15:30", 3, WORKING_DAYS, "2026-09-30 15:30"),
        # One working day after Friday 10-09 is the adjusted Saturday.
        ("2026-10-09 09:00", 1, WORKING_DAYS, "2026-10-10 09:00"),
        ("2026-10-10 09:00", 1, WORKING_DAYS, "2026-10-12 09:00"),
        # A clock started during the holiday counts from the first working day after it.
        ("2026-10-03 08:00", 1, WORKING_DAYS, "2026-10-08 08:00"),
        ("2026-10-03 08:00", 7, CALENDAR_DAYS, "2026-10-10 08:00"),
        # Hours ignore the calendar (F11: 24 hours for the doctor, holiday or not).
        ("2026-09-30 18:00", 24, HOURS, "2026-10-01 18:00"),
        ("2026-09-30 18:00", 48, HOURS, "2026-10-02 18:00"),
        ("2026-10-09 23:30", 1, HOURS, "2026-10-10 00:30"),
    ],
)
def test_due_in_each_unit_on_the_2026_calendar_C3(cal, start, amount, unit, expected):
    assert deadlines.due(at(start), DeadlineSpec(amount, unit), cal) == at(expected)


def test_complaint_reply_due_7_calendar_days_C3(cal):
    assert deadlines.due(at("2026-09-29 10:00"), DeadlineSpec(7), cal) == at("2026-10-06 10:00")


def test_complaint_reply_due_7_working_days_skips_national_day_C3(cal):
    spec = DeadlineSpec(7, WORKING_DAYS)
    assert deadlines.due(at("2026-09-29 10:00"), spec, cal) == at("2026-10-14 10:00")


def test_due_keeps_the_time_zone_of_the_start_C3(cal):
    from zoneinfo import ZoneInfo

    shanghai = dt.datetime(2026, 9, 29, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    found = deadlines.due(shanghai, DeadlineSpec(7, WORKING_DAYS), cal)
    assert found == at("2026-10-14 10:00")
    assert found.tzinfo is shanghai.tzinfo


@pytest.mark.parametrize(
    ("deadline", "spec", "expected"),
    [
        # Second escalation 2 units after the deadline, in the rule's own unit.
        ("2026-10-06 10:00", DeadlineSpec(7, CALENDAR_DAYS, 48, 2), "2026-10-08 10:00"),
        ("2026-10-14 10:00", DeadlineSpec(7, WORKING_DAYS, 48, 2), "2026-10-16 10:00"),
        # From Friday 10-09: Saturday 10-10 works, Sunday 10-11 does not.
        ("2026-10-09 10:00", DeadlineSpec(3, WORKING_DAYS, 24, 2), "2026-10-12 10:00"),
        ("2026-09-30 18:00", DeadlineSpec(24, HOURS, 4, 24), "2026-10-01 18:00"),
        ("2026-09-30 18:00", DeadlineSpec(3, WORKING_DAYS, 24, 0), None),
    ],
)
def test_second_escalation_moment_C3(cal, deadline, spec, expected):
    found = deadlines.second_due(at(deadline), spec, cal)
    assert found == (at(expected) if expected else None)


def test_negative_amount_and_unknown_unit_are_refused(cal):
    with pytest.raises(ValueError, match="negative"):
        deadlines.add(at("2026-09-29 10:00"), -1, CALENDAR_DAYS, cal)
    with pytest.raises(ValueError, match="unknown unit 'weeks'"):
        deadlines.add(at("2026-09-29 10:00"), 1, "weeks", cal)


DUE = at("2026-10-06 10:00")
WARN = DUE - dt.timedelta(hours=48)  # 2026-10-04 10:00


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at("2026-09-29 10:00"), "ok"),
        (WARN - ONE_SECOND, "ok"),
        (WARN, "near"),
        (at("2026-10-05 10:00"), "near"),
        (DUE - ONE_SECOND, "near"),
        (DUE, "overdue"),
        (at("2026-10-20 10:00"), "overdue"),
    ],
)
def test_deadline_state_at_the_boundaries_C3(now, expected):
    assert deadlines.state(DUE, now, 48) == expected


def test_deadline_state_done_wins_and_no_deadline_is_ok_C3():
    assert deadlines.state(DUE, at("2026-10-20 10:00"), 48, done=True) == "done"
    assert deadlines.state(DUE, WARN, 48, done=True) == "done"
    assert deadlines.state(None, at("2026-10-20 10:00"), 48) == "ok"
    # warn_hours 0: never "near", straight from ok to overdue.
    assert deadlines.state(DUE, DUE - ONE_SECOND, 0) == "ok"


SECOND = at("2026-10-08 10:00")


@pytest.mark.parametrize(
    ("now", "second", "expected"),
    [
        (DUE - ONE_SECOND, SECOND, 0),
        (DUE, SECOND, 1),
        (SECOND - ONE_SECOND, SECOND, 1),
        (SECOND, SECOND, 2),
        (at("2026-12-01 10:00"), SECOND, 2),
        # A rule that never escalates twice stays at level 1 (supervisor) forever.
        (at("2026-12-01 10:00"), None, 1),
    ],
)
def test_escalation_level_at_the_boundaries_C3(now, second, expected):
    assert deadlines.escalation_level(DUE, second, now) == expected


def test_escalation_level_without_a_deadline_is_0_C3():
    assert deadlines.escalation_level(None, None, at("2026-12-01 10:00")) == 0

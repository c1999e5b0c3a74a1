"""F6: the working-day calendar and the window rule, on the official 2026 calendar.

The base here is ``chinese_calendar`` itself (the library the app uses up to 2026), so these
tests need no database; the same facts through the app's ``get_calendar()`` are in
``careloop/calendars/tests/test_official_calendar.py``.
"""

from __future__ import annotations

from datetime import date

import chinese_calendar
import pytest

from careloop.lib.workdays import WorkCalendar, weekend_rule

D = date.fromisoformat
CAL_2026 = WorkCalendar(base=chinese_calendar.is_workday)


@pytest.mark.parametrize(
    ("day", "workday"),
    [
        ("2026-09-20", True),  # Sunday, adjusted working day (调休上班) for National Day
        ("2026-09-24", True),  # Thursday before Mid-Autumn
        ("2026-09-25", False),  # Mid-Autumn Festival (Friday)
        ("2026-09-26", False),
        ("2026-09-27", False),
        ("2026-10-01", False),  # National Day
        ("2026-10-04", False),
        ("2026-10-07", False),
        ("2026-10-08", True),  # Thursday after National Day
        ("2026-10-09", True),
        ("2026-10-10", True),  # Saturday, adjusted working day
        ("2026-10-11", False),  # Sunday, ordinary weekend
    ],
)
def test_official_2026_working_days_F6(day, workday):
    assert CAL_2026.is_workday(D(day)) is workday


def test_mid_autumn_and_national_day_2026_are_off_day_by_day_F6():
    off = [D("2026-09-25"), D("2026-09-26"), D("2026-09-27")]
    off += [date(2026, 10, d) for d in range(1, 8)]
    assert [day for day in off if CAL_2026.is_workday(day)] == []


@pytest.mark.parametrize(
    ("nominal_open", "nominal_close", "opens", "closes"),
    [
        # both ends on working days: unchanged
        ("2026-09-21", "2026-09-24", "2026-09-21", "2026-09-24"),
        # opens on a day off → next working day (Mid-Autumn Friday → Monday 09-28)
        ("2026-09-25", "2026-09-30", "2026-09-28", "2026-09-30"),
        # closes on a day off → last working day before it (National Day → 09-30)
        ("2026-09-28", "2026-10-03", "2026-09-28", "2026-09-30"),
        # opens on the adjusted working Sunday: it is a working day, opens that day
        ("2026-09-20", "2026-09-22", "2026-09-20", "2026-09-22"),
        # closes on the adjusted working Saturday: closes that day
        ("2026-10-08", "2026-10-10", "2026-10-08", "2026-10-10"),
        # closes on the ordinary Sunday after it → the working Saturday before
        ("2026-10-08", "2026-10-11", "2026-10-08", "2026-10-10"),
        # wholly inside National Day: opens 10-08 and never closes before it opens
        ("2026-10-02", "2026-10-05", "2026-10-08", "2026-10-08"),
        # one nominal day, a day off: the same working day both ends
        ("2026-10-11", "2026-10-11", "2026-10-12", "2026-10-12"),
        # spanning the whole holiday: opens before, closes after
        ("2026-09-30", "2026-10-08", "2026-09-30", "2026-10-08"),
    ],
)
def test_window_rule_F6(nominal_open, nominal_close, opens, closes):
    assert CAL_2026.window(D(nominal_open), D(nominal_close)) == (D(opens), D(closes))


def test_next_and_prev_workday_are_on_or_after_and_on_or_before_F6():
    assert CAL_2026.next_workday(D("2026-10-08")) == D("2026-10-08")
    assert CAL_2026.next_workday(D("2026-10-01")) == D("2026-10-08")
    assert CAL_2026.prev_workday(D("2026-10-07")) == D("2026-09-30")
    assert CAL_2026.prev_workday(D("2026-09-20")) == D("2026-09-20")


def test_add_workdays_skips_days_off_and_counts_adjusted_days_F6():
    assert CAL_2026.add_workdays(D("2026-09-30"), 1) == D("2026-10-08")
    assert CAL_2026.add_workdays(D("2026-10-08"), 2) == D("2026-10-10")
    assert CAL_2026.add_workdays(D("2026-09-18"), 1) == D("2026-09-20")
    assert CAL_2026.add_workdays(D("2026-09-18"), 0) == D("2026-09-18")


def test_override_beats_the_base_F6():
    cal = WorkCalendar({D("2026-10-08"): False, D("2026-10-03"): True}, chinese_calendar.is_workday)
    assert cal.is_workday(D("2026-10-08")) is False
    assert cal.is_workday(D("2026-10-03")) is True
    assert cal.window(D("2026-10-02"), D("2026-10-05")) == (D("2026-10-03"), D("2026-10-03"))


def test_without_a_base_the_weekend_rule_applies_F6():
    cal = WorkCalendar()
    assert cal.is_workday(D("2027-03-05")) is True  # Friday
    assert cal.is_workday(D("2027-03-06")) is False  # Saturday
    assert weekend_rule(D("2027-03-07")) is False
    assert cal.window(D("2027-03-06"), D("2027-03-07")) == (D("2027-03-08"), D("2027-03-08"))

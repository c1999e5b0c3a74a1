"""F6: SMS only 08:00–20:00; S4: retries back off 1, 2, 4, 8 … minutes."""

from __future__ import annotations

import datetime as dt

import pytest

from careloop.notify.rules import backoff, in_send_hours, next_send_time


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("now", "attempt", "expected"),
    [
        ("2026-05-06 19:59", 0, "2026-05-06 19:59"),  # the last minute still sends
        ("2026-05-06 20:00", 0, "2026-05-07 08:00"),  # 20:00 waits until 08:00 next day
        ("2026-05-06 23:30", 0, "2026-05-07 08:00"),
        ("2026-05-06 07:59", 0, "2026-05-06 08:00"),  # before 08:00 waits the same morning
        ("2026-05-06 00:00", 0, "2026-05-06 08:00"),
        ("2026-05-06 08:00", 0, "2026-05-06 08:00"),
        ("2026-05-06 12:00", 1, "2026-05-06 12:01"),
        ("2026-05-06 12:00", 2, "2026-05-06 12:02"),
        ("2026-05-06 12:00", 3, "2026-05-06 12:04"),
        ("2026-05-06 12:00", 4, "2026-05-06 12:08"),
        ("2026-05-06 19:58", 2, "2026-05-07 08:00"),  # a retry landing on 20:00 waits
        ("2026-05-06 19:55", 4, "2026-05-07 08:00"),
        ("2026-05-06 07:55", 3, "2026-05-06 08:00"),  # 07:59 still quiet
        ("2026-12-31 20:30", 0, "2027-01-01 08:00"),  # across the year end
    ],
)
def test_next_send_time_F6(now, attempt, expected):
    assert next_send_time(at(now), attempt) == at(expected)


def test_backoff_doubles_from_one_minute_S4():
    assert [backoff(n) for n in range(6)] == [dt.timedelta(minutes=m) for m in (0, 1, 2, 4, 8, 16)]


def test_send_hours_boundaries_F6():
    assert in_send_hours(at("2026-05-06 08:00"))
    assert in_send_hours(at("2026-05-06 19:59:59"))
    assert not in_send_hours(at("2026-05-06 20:00"))
    assert not in_send_hours(at("2026-05-06 07:59:59"))


def test_aware_local_time_keeps_its_zone():
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    got = next_send_time(dt.datetime(2026, 5, 6, 21, 0, tzinfo=tz), 0)
    assert got == dt.datetime(2026, 5, 7, 8, 0, tzinfo=tz)

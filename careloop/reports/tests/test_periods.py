"""Report periods (R1–R4): months and quarters, parsing what a URL or a command typed."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from careloop.reports import periods
from careloop.reports.periods import Period, PeriodError, date_range, month, parse, quarter

D = dt.date
CST = dt.timezone(dt.timedelta(hours=8))


@pytest.mark.parametrize(
    ("year", "number", "start", "end", "key", "label"),
    [
        (2026, 10, D(2026, 10, 1), D(2026, 11, 1), "2026-10", "2026年10月"),
        (2026, 1, D(2026, 1, 1), D(2026, 2, 1), "2026-01", "2026年1月"),
        (2026, 12, D(2026, 12, 1), D(2027, 1, 1), "2026-12", "2026年12月"),
        (2028, 2, D(2028, 2, 1), D(2028, 3, 1), "2028-02", "2028年2月"),
    ],
)
def test_month_R1(year, number, start, end, key, label):
    p = month(year, number)
    assert (p.start, p.end, p.kind, p.key, p.label) == (start, end, "month", key, label)
    assert p.last == end - dt.timedelta(days=1)
    assert p.months() == [p]


def test_february_of_a_leap_year_ends_on_the_29th_R1():
    assert month(2028, 2).last == D(2028, 2, 29)
    assert month(2026, 2).last == D(2026, 2, 28)


@pytest.mark.parametrize(
    ("year", "number", "start", "end", "key", "label"),
    [
        (2026, 1, D(2026, 1, 1), D(2026, 4, 1), "2026-Q1", "2026年第1季度"),
        (2026, 4, D(2026, 10, 1), D(2027, 1, 1), "2026-Q4", "2026年第4季度"),
    ],
)
def test_quarter_R3(year, number, start, end, key, label):
    q = quarter(year, number)
    assert (q.start, q.end, q.kind, q.key, q.label) == (start, end, "quarter", key, label)
    assert [m.key for m in q.months()] == [
        f"{year}-{m:02d}" for m in range(3 * number - 2, 3 * number + 1)
    ]


def test_previous_R3():
    assert month(2026, 10).previous() == month(2026, 9)
    assert month(2026, 1).previous() == month(2025, 12)
    assert quarter(2026, 4).previous() == quarter(2026, 3)
    assert quarter(2026, 1).previous() == quarter(2025, 4)


def test_range_R2():
    r = date_range(D(2026, 10, 5), D(2026, 10, 20))
    assert (r.start, r.end, r.kind) == (D(2026, 10, 5), D(2026, 10, 21), "range")
    assert r.key == "2026-10-05~2026-10-20"
    assert r.label == "2026-10-05 至 2026-10-20"
    assert [m.key for m in date_range(D(2026, 9, 20), D(2026, 11, 3)).months()] == [
        "2026-09",
        "2026-10",
        "2026-11",
    ]
    one_day = date_range(D(2026, 10, 5), D(2026, 10, 5))
    assert (one_day.start, one_day.end) == (D(2026, 10, 5), D(2026, 10, 6))


def test_range_errors_in_chinese_R2():
    with pytest.raises(PeriodError, match=r"^结束日期早于开始日期$"):
        date_range(D(2026, 10, 5), D(2026, 10, 4))
    with pytest.raises(PeriodError, match=r"^日期范围不能超过一年$"):
        date_range(D(2026, 1, 1), D(2027, 1, 3))


def test_local_midnights_R5(settings):
    assert settings.TIME_ZONE == "Asia/Shanghai"
    p = month(2026, 10)
    assert p.start_dt() == dt.datetime(2026, 10, 1, tzinfo=CST)
    assert p.end_dt() == dt.datetime(2026, 11, 1, tzinfo=CST)
    assert p.start_dt().astimezone(dt.UTC) == dt.datetime(2026, 9, 30, 16, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10", month(2026, 10)),
        ("2026-1", month(2026, 1)),
        ("2026-01", month(2026, 1)),
        ("  2026-10 ", month(2026, 10)),
        ("2026-Q4", quarter(2026, 4)),
        ("2026-q1", quarter(2026, 1)),
        ("2026Q2", quarter(2026, 2)),
    ],
)
def test_parse_R1(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-13", "月份 2026-13 不在 2000-01 至 2100-12 之间"),
        ("2026-00", "月份 2026-00 不在 2000-01 至 2100-12 之间"),
        ("9999-12", "月份 9999-12 不在 2000-01 至 2100-12 之间"),
        ("1999-12", "月份 1999-12 不在 2000-01 至 2100-12 之间"),
        ("abc", "无法识别的统计期间“abc”，应为 2026-10 或 2026-Q4"),
        ("2026-Q5", "无法识别的统计期间“2026-Q5”，应为 2026-10 或 2026-Q4"),
        ("2026-10-05", "无法识别的统计期间“2026-10-05”，应为 2026-10 或 2026-Q4"),
        ("2026/10", "无法识别的统计期间“2026/10”，应为 2026-10 或 2026-Q4"),
        ("x" * 300, f"无法识别的统计期间“{'x' * 20}”，应为 2026-10 或 2026-Q4"),
        ("<script>", "无法识别的统计期间“<script>”，应为 2026-10 或 2026-Q4"),
    ],
)
def test_parse_errors_are_chinese_R1(text, message):
    with pytest.raises(PeriodError) as err:
        parse(text)
    assert str(err.value) == message
    assert isinstance(err.value, ValueError)  # views may catch ValueError


def test_quarter_number_error_R3():
    with pytest.raises(PeriodError) as err:
        quarter(2026, 5)
    assert str(err.value) == "季度应为 1–4，实际为 5"
    with pytest.raises(PeriodError, match="月份 9999-10"):
        quarter(9999, 4)


def test_blank_is_last_month_or_the_default_R1():
    with time_machine.travel(dt.datetime(2026, 11, 5, 9, tzinfo=CST), tick=False):
        assert parse("") == month(2026, 10)
        assert parse(None) == month(2026, 10)
        assert parse("   ") == month(2026, 10)
        assert parse("", default=quarter(2026, 3)) == quarter(2026, 3)
        assert periods.this_month() == month(2026, 11)
        assert periods.last_month() == month(2026, 10)


def test_this_month_follows_hospital_time_R1():
    # 2026-01-01 00:30 in Shanghai is still 2025-12-31 in UTC.
    with time_machine.travel(dt.datetime(2026, 1, 1, 0, 30, tzinfo=CST), tick=False):
        assert periods.this_month() == month(2026, 1)
        assert periods.last_month() == month(2025, 12)


def test_this_and_last_month_of_a_given_day_R1():
    assert periods.this_month(D(2026, 3, 31)) == month(2026, 3)
    assert periods.last_month(D(2026, 1, 15)) == month(2025, 12)


def test_period_is_hashable_and_comparable_R1():
    assert {month(2026, 10), month(2026, 10)} == {month(2026, 10)}
    assert Period(D(2026, 10, 1), D(2026, 11, 1)) == month(2026, 10)

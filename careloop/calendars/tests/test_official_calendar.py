"""F6: the app's calendar (library base + the hospital's table), years not yet loaded, and the
administrator's warning."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Permission

from careloop.calendars import services
from careloop.calendars.models import CalendarDay, CalendarYear
from careloop.calendars.services import (
    get_calendar,
    library_day_name,
    save_override,
    unloaded_years,
    warnings_for,
    year_grid,
    year_is_official,
)

pytestmark = pytest.mark.django_db
D = date.fromisoformat


@pytest.mark.parametrize(
    ("day", "workday"),
    [
        ("2026-09-20", True),  # Sunday, 调休上班
        ("2026-09-25", False),  # Mid-Autumn
        ("2026-09-26", False),
        ("2026-09-27", False),
        ("2026-10-01", False),
        ("2026-10-02", False),
        ("2026-10-03", False),
        ("2026-10-04", False),
        ("2026-10-05", False),
        ("2026-10-06", False),
        ("2026-10-07", False),
        ("2026-10-08", True),  # Thursday
        ("2026-10-10", True),  # Saturday, 调休上班
        ("2026-10-11", False),  # Sunday
    ],
)
def test_2026_follows_the_official_calendar_with_adjusted_days_F6(day, workday):
    assert get_calendar().is_workday(D(day)) is workday


def test_window_wholly_inside_national_day_2026_opens_and_closes_on_the_8th_F6():
    assert get_calendar().window(D("2026-10-02"), D("2026-10-05")) == (
        D("2026-10-08"),
        D("2026-10-08"),
    )


@pytest.mark.parametrize(
    ("day", "workday"),
    [
        ("2027-10-01", False),  # National Day, statutory
        ("2027-10-02", False),
        ("2027-10-04", True),  # Monday: the library's "observed" guess is not official
        ("2027-02-09", True),  # Tuesday: same, Spring Festival "observed" guess
        ("2027-02-08", False),  # Spring Festival, statutory
        ("2027-03-06", False),  # an ordinary Saturday
        ("2027-03-08", True),
    ],
)
def test_2027_without_a_load_uses_weekends_and_statutory_holidays_F6(day, workday):
    assert get_calendar().is_workday(D(day)) is workday


def test_2027_is_unloaded_from_november_2026_F6():
    assert year_is_official(2026) is True
    assert year_is_official(2027) is False
    assert unloaded_years(date(2026, 11, 23)) == [2027]
    assert unloaded_years(date(2026, 10, 31)) == []  # next year is not published before November


def test_a_loaded_year_is_official_and_no_longer_warned_F6():
    CalendarYear.objects.create(year=2027, days=30)
    assert year_is_official(2027) is True
    assert unloaded_years(date(2026, 11, 23)) == []


def test_statutory_days_are_read_the_same_whatever_the_server_locale_F6(monkeypatch):
    # holidays names its days after LANG when no language is given; the "observed" filter
    # must not depend on it (a Chinese server would otherwise take 2027-10-04 as a day off).
    monkeypatch.setenv("LANGUAGE", "zh_CN")
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    services._library_year.cache_clear()
    try:
        assert services.official_is_workday(D("2027-10-04")) is True
        assert services.official_is_workday(D("2027-10-01")) is False
    finally:
        services._library_year.cache_clear()


def test_override_beats_the_library_F6(make_user):
    admin = make_user("cal.admin")
    save_override(day=D("2026-10-08"), is_workday=False, name="院庆放假", by=admin)
    save_override(day=D("2026-10-03"), is_workday=True, name="", by=admin)
    cal = get_calendar()
    assert cal.is_workday(D("2026-10-08")) is False
    assert cal.is_workday(D("2026-10-03")) is True
    row = CalendarDay.objects.get(date=D("2026-10-08"))
    assert (row.source, row.updated_by, row.name) == ("manual", admin, "院庆放假")


def test_an_edit_is_seen_at_once_by_get_calendar_F6():
    saved = save_override(day=D("2026-10-08"), is_workday=False)
    assert get_calendar().is_workday(D("2026-10-08")) is False
    save_override(day=D("2026-10-08"), is_workday=True, override=saved)
    assert get_calendar().is_workday(D("2026-10-08")) is True
    services.delete_override(CalendarDay.objects.get(date=D("2026-10-08")))
    assert get_calendar().is_workday(D("2026-10-08")) is True
    save_override(day=D("2026-10-09"), is_workday=False)
    assert get_calendar().is_workday(D("2026-10-09")) is False


def test_duplicate_override_date_is_refused_in_chinese_F6():
    from django.core.exceptions import ValidationError

    save_override(day=D("2026-10-09"), is_workday=False)
    with pytest.raises(ValidationError) as info:
        save_override(day=D("2026-10-09"), is_workday=True)
    assert info.value.message_dict == {"date": ["2026-10-09 已有一条调整，请编辑那一条。"]}
    assert CalendarDay.objects.get(date=D("2026-10-09")).is_workday is False


def test_library_names_holidays_and_adjusted_days_in_chinese_F6():
    assert library_day_name(D("2026-10-01")) == "国庆节"
    assert library_day_name(D("2026-09-25")) == "中秋节"
    assert library_day_name(D("2026-09-20")) == "国庆节"
    assert library_day_name(D("2026-10-11")) == ""
    assert library_day_name(D("2027-10-01")) == "国庆节"
    assert library_day_name(D("2027-10-04")) == ""


def test_year_grid_marks_adjusted_days_holidays_and_overrides_F6():
    save_override(day=D("2026-10-09"), is_workday=False, name="院庆")
    months = year_grid(2026)
    assert [m.month for m in months] == list(range(1, 13))
    cells = {c.day: c for m in months for w in m.weeks for c in w if c}
    assert len(cells) == 365
    assert all(len(w) == 7 for m in months for w in m.weeks)
    october = months[9].weeks[0]
    assert [c.day.day if c else None for c in october] == [None, None, None, 1, 2, 3, 4]
    sunday = cells[D("2026-09-20")]
    assert (sunday.is_workday, sunday.adjusted, sunday.holiday, sunday.name) == (
        True,
        True,
        False,
        "国庆节",
    )
    national = cells[D("2026-10-01")]
    assert (national.is_workday, national.holiday, national.name) == (False, True, "国庆节")
    plain = cells[D("2026-10-11")]
    assert (plain.is_workday, plain.adjusted, plain.holiday, plain.name) == (
        False,
        False,
        False,
        "",
    )
    edited = cells[D("2026-10-09")]
    assert (edited.is_workday, edited.holiday, edited.name) == (False, True, "院庆")
    assert edited.override is not None


def test_warnings_only_for_those_who_can_load_the_calendar_F6(make_user):
    nurse = make_user("nurse.cal")
    admin = make_user("admin.cal")
    admin.user_permissions.add(Permission.objects.get(codename="change_calendarday"))
    admin = type(admin).objects.get(pk=admin.pk)
    assert warnings_for(nurse, date(2026, 11, 23)) == []
    [text] = warnings_for(admin, date(2026, 11, 23))
    assert text.startswith("2027 年的官方调休安排尚未载入：")
    assert warnings_for(admin, date(2026, 6, 1)) == []
    CalendarYear.objects.create(year=2027)
    assert warnings_for(admin, date(2026, 11, 23)) == []

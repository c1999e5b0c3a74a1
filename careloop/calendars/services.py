"""F6: the working calendar the planner and the deadlines use.

Base rule, per year: ``chinese-calendar`` where it has data (2004–2026, adjusted days
included); otherwise ``holidays`` when it lists the year's adjusted working days; otherwise
weekends plus the statutory holidays ``holidays`` knows (its "observed" guesses are not
official and are left out). The hospital's table (``CalendarDay``) overrides any day. A year
after the libraries' coverage whose schedule has not been loaded is "unofficial": planning goes
on, and the administrator is warned until ``careloop calendar load`` brings it in.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from careloop.calendars.choices import DaySource
from careloop.calendars.models import CalendarDay, CalendarYear
from careloop.lib.workdays import WorkCalendar


@functools.lru_cache(maxsize=64)
def _library_year(year: int) -> tuple[frozenset, frozenset, bool]:
    """(days off on weekdays, working weekend days, official?) for one year from the libraries."""
    import chinese_calendar
    import holidays

    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        pass
    else:
        day = dt.date(year, 1, 1)
        off, on = set(), set()
        while day.year == year:
            work = chinese_calendar.is_workday(day)
            if day.weekday() < 5 and not work:
                off.add(day)
            elif day.weekday() >= 5 and work:
                on.add(day)
            day += dt.timedelta(days=1)
        return frozenset(off), frozenset(on), True
    # Explicit language: the "observed" filter below reads the English names, and without it
    # ``holidays`` follows the server's locale (LANG=zh_CN.UTF-8 gives "春节（补假）").
    known = holidays.China(years=year, language="en_US")
    weekend_work = frozenset(d for d in getattr(known, "weekend_workdays", ()) if d.year == year)
    off = frozenset(
        day
        for day, name in known.items()
        if day.year == year and "observed" not in name.lower() and "substituted" not in name.lower()
    ) if not weekend_work else frozenset(d for d in known if d.year == year)  # fmt: skip
    return off, weekend_work, bool(weekend_work)


def official_is_workday(day: dt.date) -> bool:
    off, on, _official = _library_year(day.year)
    if day in on:
        return True
    if day in off:
        return False
    return day.weekday() < 5


def year_is_official(year: int) -> bool:
    """True when the year's adjusted days are known: from a library or a loaded file."""
    return _library_year(year)[2] or CalendarYear.objects.filter(year=year).exists()


def unloaded_years(today: dt.date | None = None) -> list[int]:
    """Years the planner is working in whose official schedule is not loaded (F6 warning):
    this year, and next year from November (when the State Council publishes it)."""
    today = today or timezone.localdate()
    years = [today.year] + ([today.year + 1] if today.month >= 11 else [])
    return [y for y in years if not year_is_official(y)]


_cached: dict = {}


def _table_version() -> tuple:
    # The table's own state is the version, so every process (web, worker) sees an edit at once.
    from django.db.models import Count, Max

    row = CalendarDay.objects.aggregate(n=Count("pk"), latest=Max("updated_at"), last=Max("pk"))
    return row["n"], row["latest"], row["last"]


def get_calendar() -> WorkCalendar:
    """The current calendar: library base plus the hospital's overrides, rebuilt on change."""
    version = _table_version()
    found = _cached.get("calendar")
    if found is not None and found[0] == version:
        return found[1]
    overrides = dict(CalendarDay.objects.values_list("date", "is_workday"))
    calendar = WorkCalendar(overrides, official_is_workday)
    _cached["calendar"] = (version, calendar)
    return calendar


# --- Names shown on the calendar page ------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _library_names(year: int) -> dict[dt.date, str]:
    """Chinese names of the year's holidays and adjusted working days, from the libraries."""
    import chinese_calendar
    import holidays

    names: dict[dt.date, str] = {}
    off, on, _official = _library_year(year)
    # chinese_calendar says 清明/端午/中秋; the State Council and ``holidays`` say 清明节 etc.
    full = {"清明": "清明节", "端午": "端午节", "中秋": "中秋节"}
    chinese = {h.value: full.get(h.chinese, h.chinese) for h in chinese_calendar.Holiday}
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        known = holidays.China(years=year, language="zh_CN")
        for day in off | on:
            name = known.get(day)
            if name:
                names[day] = name
        return names
    for day in off | on:
        _on_holiday, english = chinese_calendar.get_holiday_detail(day)
        if english:
            names[day] = chinese.get(english, english)
    return names


def library_day_name(day: dt.date) -> str:
    """The holiday a day off (or an adjusted working day) belongs to, "" for ordinary days."""
    return _library_names(day.year).get(day, "")


@dataclass(frozen=True)
class DayCell:
    day: dt.date
    is_workday: bool
    name: str
    adjusted: bool  # a working Saturday or Sunday (调休上班)
    holiday: bool  # a day off on a weekday, or a named day off
    override: CalendarDay | None


@dataclass(frozen=True)
class MonthGrid:
    month: int
    weeks: list[list[DayCell | None]]  # Monday first; None pads the first and last week


def year_grid(year: int) -> list[MonthGrid]:
    """F6: twelve month grids of the year as the planner sees it (library + overrides)."""
    cal = get_calendar()
    overrides = {o.date: o for o in CalendarDay.objects.filter(date__year=year)}
    months = []
    for month in range(1, 13):
        first = dt.date(year, month, 1)
        week: list[DayCell | None] = [None] * first.weekday()
        weeks = []
        day = first
        while day.month == month:
            work = cal.is_workday(day)
            override = overrides.get(day)
            name = (override.name if override else "") or library_day_name(day)
            week.append(
                DayCell(
                    day=day,
                    is_workday=work,
                    name=name,
                    adjusted=work and day.weekday() >= 5,
                    holiday=not work and (day.weekday() < 5 or bool(name)),
                    override=override,
                )
            )
            if len(week) == 7:
                weeks.append(week)
                week = []
            day += dt.timedelta(days=1)
        if week:
            weeks.append(week + [None] * (7 - len(week)))
        months.append(MonthGrid(month=month, weeks=weeks))
    return months


# --- Warnings (F6: the administrator is warned until the year is loaded) --------------------


def unofficial_year_warning(year: int) -> str:
    return _(
        "%(year)d 年的官方调休安排尚未载入：目前按周末和已知的法定节假日安排计划，"
        "调休上班日和补休未计入。国务院办公厅每年 11 月公布次年安排，公布后请在“工作日历”页面"
        "上传日历文件（或运行 careloop calendar load 文件）。"
    ) % {"year": year}


def warnings_for(user, today: dt.date | None = None) -> list[str]:
    """F6 warnings for the people who can load the calendar; nobody else can act on them."""
    if user is None or not user.has_perm("calendars.change_calendarday"):
        return []
    return [unofficial_year_warning(year) for year in unloaded_years(today)]


def year_status(year: int) -> dict:
    """What `careloop calendar status` prints for one year."""
    loaded = CalendarYear.objects.filter(year=year).select_related("loaded_by").first()
    days = CalendarDay.objects.filter(date__year=year)
    return {
        "year": year,
        "library_official": _library_year(year)[2],
        "loaded": loaded,
        "official": year_is_official(year),
        "overrides": days.count(),
        "manual": days.filter(source=DaySource.MANUAL).count(),
    }


# --- Writes: every change to the table goes through these (audited by the model signals) ----


def save_override(
    *,
    day: dt.date,
    is_workday: bool,
    name: str = "",
    by=None,
    override: CalendarDay | None = None,
) -> CalendarDay:
    """Add (``override`` None) or edit one day of the hospital's table (F6: the hospital can
    edit the calendar). A hand edit makes the row "manual", even one a file loaded."""
    if override is None:
        override = CalendarDay(date=day)
    override.date = day
    override.is_workday = is_workday
    override.name = name.strip()
    override.source = DaySource.MANUAL
    override.updated_by = by
    # get_calendar() notices a change through updated_at: always now, never the old value.
    override.updated_at = timezone.now()
    try:
        with transaction.atomic():
            override.save()
    except IntegrityError:
        raise ValidationError(
            {"date": _("%(date)s 已有一条调整，请编辑那一条。") % {"date": day.isoformat()}}
        ) from None
    return override


def delete_override(override: CalendarDay, by=None) -> None:
    """Remove one day from the table; the day goes back to the official/library rule."""
    override.delete()  # one instance at a time so the audit signal logs it

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

from django.utils import timezone

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
    known = holidays.China(years=year)
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

"""F6: the working-day calendar and the window rule, as plain functions over dates.

``WorkCalendar`` answers "is this a working day" from a base rule (the official calendar the
libraries know) overridden day by day (the hospital's editable table). The window rule: a
window that would open on a non-working day opens on the next working day; one that would close
on a non-working day closes on the last working day before it, never before it opens.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta

ONE_DAY = timedelta(days=1)
# No official calendar has more than 9 consecutive days off (Spring Festival 2026: 9).
_MAX_SCAN = 60


def weekend_rule(day: date) -> bool:
    return day.weekday() < 5


class WorkCalendar:
    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        base: Callable[[date], bool] = weekend_rule,
    ):
        self._overrides = dict(overrides or {})
        self._base = base
        self._cache: dict[date, bool] = {}
        self._next: dict[date, date] = {}
        self._prev: dict[date, date] = {}

    def is_workday(self, day: date) -> bool:
        found = self._cache.get(day)
        if found is None:
            found = self._overrides.get(day)
            if found is None:
                found = bool(self._base(day))
            self._cache[day] = found
        return found

    def next_workday(self, day: date) -> date:
        """The first working day on or after ``day``."""
        found = self._next.get(day)
        if found is None:
            found = day
            for _ in range(_MAX_SCAN):
                if self.is_workday(found):
                    break
                found += ONE_DAY
            self._next[day] = found
        return found

    def prev_workday(self, day: date) -> date:
        """The last working day on or before ``day``."""
        found = self._prev.get(day)
        if found is None:
            found = day
            for _ in range(_MAX_SCAN):
                if self.is_workday(found):
                    break
                found -= ONE_DAY
            self._prev[day] = found
        return found

    def window(self, nominal_open: date, nominal_close: date) -> tuple[date, date]:
        """F6: (opens, closes) of a window whose nominal days are ``nominal_open``..``nominal_close``."""
        opens = self.next_workday(nominal_open)
        closes = self.prev_workday(nominal_close)
        return opens, max(opens, closes)

    def add_workdays(self, day: date, n: int) -> date:
        """The n-th working day after ``day`` (deadlines in working days)."""
        current = day
        for _ in range(n):
            current = self.next_workday(current + ONE_DAY)
        return current

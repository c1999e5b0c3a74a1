"""Report periods: a month or a quarter, as [start, end) dates and local-time datetimes."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.utils import timezone

MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")
QUARTER_RE = re.compile(r"^(\d{4})-?[Qq]([1-4])$")


class PeriodError(ValueError):
    """A period typed in a URL or a command was not understood (message in Chinese)."""


@dataclass(frozen=True)
class Period:
    start: dt.date  # first day
    end: dt.date  # the day after the last day
    kind: str = "month"  # month | quarter | range

    @property
    def last(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def key(self) -> str:
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start:%Y-%m-%d}~{self.last:%Y-%m-%d}"

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月"
        if self.kind == "quarter":
            return f"{self.start.year}年第{(self.start.month - 1) // 3 + 1}季度"
        return f"{self.start:%Y-%m-%d} 至 {self.last:%Y-%m-%d}"

    def start_dt(self) -> dt.datetime:
        return _local_midnight(self.start)

    def end_dt(self) -> dt.datetime:
        return _local_midnight(self.end)

    def months(self) -> list[Period]:
        out, current = [], self.start.replace(day=1)
        while current < self.end:
            out.append(month(current.year, current.month))
            current = out[-1].end
        return out

    def previous(self) -> Period:
        if self.kind == "quarter":
            q = (self.start.month - 1) // 3 + 1
            return quarter(self.start.year - (q == 1), 4 if q == 1 else q - 1)
        before = self.start - dt.timedelta(days=1)
        return month(before.year, before.month)


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def month(year: int, number: int) -> Period:
    if not 1 <= number <= 12 or not 2000 <= year <= 2100:
        raise PeriodError(f"月份 {year}-{number:02d} 不在 2000-01 至 2100-12 之间")
    start = dt.date(year, number, 1)
    end = dt.date(year + (number == 12), 1 if number == 12 else number + 1, 1)
    return Period(start, end, "month")


def quarter(year: int, number: int) -> Period:
    if not 1 <= number <= 4:
        raise PeriodError(f"季度应为 1–4，实际为 {number}")
    first = month(year, 3 * number - 2)
    last = month(year, 3 * number)
    return Period(first.start, last.end, "quarter")


def date_range(start: dt.date, last: dt.date) -> Period:
    if last < start:
        raise PeriodError("结束日期早于开始日期")
    if (last - start).days > 366:
        raise PeriodError("日期范围不能超过一年")
    return Period(start, last + dt.timedelta(days=1), "range")


def parse(text: str | None, *, default: Period | None = None) -> Period:
    """ "2026-10" → that month, "2026-Q4" → that quarter; blank → ``default`` (last month)."""
    text = (text or "").strip()
    if not text:
        return default or last_month()
    if m := MONTH_RE.match(text):
        return month(int(m.group(1)), int(m.group(2)))
    if m := QUARTER_RE.match(text):
        return quarter(int(m.group(1)), int(m.group(2)))
    raise PeriodError(f"无法识别的统计期间“{text[:20]}”，应为 2026-10 或 2026-Q4")


def this_month(today: dt.date | None = None) -> Period:
    today = today or timezone.localdate()
    return month(today.year, today.month)


def last_month(today: dt.date | None = None) -> Period:
    return this_month(today).previous()

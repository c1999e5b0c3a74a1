"""R3: the daily job that keeps the leadership summaries (registered as "reports-monthly").

It runs every day, not only on the 1st: whenever last month's summary is missing it closes last
month (R1/R4 snapshots) and generates it, and when last month ended a quarter it also generates
that quarter's if missing — so a server that was down on the 1st catches up on the next run.
Idempotent: once a summary exists the job leaves it (regenerating is a person's decision, on the
summary page)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from careloop.reports import periods
from careloop.reports.models import Summary, SummaryKind
from careloop.reports.services import close_month
from careloop.reports.summary import generate


def _missing(period: periods.Period) -> bool:
    return not Summary.objects.filter(kind=period.kind, period_key=period.key).exists()


def monthly_summaries(today: dt.date | None = None) -> dict:
    today = today or timezone.localdate()
    last = periods.last_month(today)
    made = []
    if _missing(last):
        close_month(last, today=today)
        generate(last, SummaryKind.MONTH, today=today)
        made.append(last.key)
    if last.start.month % 3 == 0:
        quarter = periods.quarter(last.start.year, last.start.month // 3)
        if _missing(quarter):
            generate(quarter, SummaryKind.QUARTER, today=today)
            made.append(quarter.key)
    return {"generated": made}

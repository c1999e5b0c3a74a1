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


# A server down for longer than this is caught up by hand (careloop report summary …).
CATCH_UP_MONTHS = 12


def _months_to_do(last: periods.Period) -> list[periods.Period]:
    """Last month, and every month since the newest monthly summary kept (a server that was down
    for two months catches up both); on a fresh installation only last month."""
    newest = (
        Summary.objects.filter(kind=SummaryKind.MONTH, period_start__lt=last.start)
        .order_by("-period_start")
        .values_list("period_start", flat=True)
        .first()
    )
    months = [last]
    while newest is not None and len(months) < CATCH_UP_MONTHS:
        before = months[0].previous()
        if before.start <= newest:
            break
        months.insert(0, before)
    return months


def monthly_summaries(today: dt.date | None = None) -> dict:
    today = today or timezone.localdate()
    made = []
    for month in _months_to_do(periods.last_month(today)):
        if _missing(month):
            close_month(month, today=today)
            generate(month, SummaryKind.MONTH, today=today)
            made.append(month.key)
        if month.start.month % 3 == 0:
            quarter = periods.quarter(month.start.year, month.start.month // 3)
            if _missing(quarter):
                generate(quarter, SummaryKind.QUARTER, today=today)
                made.append(quarter.key)
    return {"generated": made}

"""Closing a month (R1/R4 snapshots) — the one place snapshots are written."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from careloop.audit.services import record_event
from careloop.reports.definitions import Figures, figures_from_dict, figures_to_dict
from careloop.reports.models import ClosedMonth, MonthlySnapshot
from careloop.reports.periods import Period
from careloop.reports.queries import department_figures


def close_month(period: Period, *, by=None, today: dt.date | None = None) -> int:
    """R1/R4: write (or rewrite) the month's snapshot for every department with numbers.

    Departments that had nothing in the month get no row (they are not ranked). Returns the
    number of departments written. Regenerating replaces the rows in one transaction.
    """
    if period.kind != "month":
        raise ValueError("只能按月生成科室月度统计")
    today = today or timezone.localdate()
    figures = department_figures(period, today=today)
    now = timezone.now()
    rows = [
        MonthlySnapshot(
            month=period.start,
            department_id=dept_id,
            figures=figures_to_dict(f),
            satisfaction=f.overall_satisfaction(),
            rated=sum(f.overall.values()),
            generated_at=now,
        )
        for dept_id, f in figures.items()
    ]
    with transaction.atomic():
        # Two first views of an old month's ranking close it at once: the month's mark is
        # locked first, so the second waits and replaces the rows instead of colliding on the
        # unique (month, department).
        ClosedMonth.objects.get_or_create(month=period.start)
        mark = ClosedMonth.objects.select_for_update().get(month=period.start)
        MonthlySnapshot.objects.filter(month=period.start).delete()
        MonthlySnapshot.objects.bulk_create(rows)
        mark.closed_at, mark.departments = now, len(rows)
        mark.save(update_fields=["closed_at", "departments"])
    if by is not None:
        record_event(
            "update",
            actor=by,
            object_type="reports.monthlysnapshot",
            object_repr=f"{period.label} 科室月度统计（{len(rows)} 个科室）",
        )
    return len(rows)


def snapshots(months: list[Period], *, today: dt.date | None = None) -> dict[dt.date, dict]:
    """{month start: {department_id: MonthlySnapshot}} for closed months, closing any month
    that has no snapshot yet (the current month is never snapshotted: it is not over)."""
    today = today or timezone.localdate()
    starts = [p.start for p in months]
    # A month with snapshot rows was closed (rows written before ClosedMonth existed, or
    # loaded from elsewhere); ClosedMonth also remembers months closed with no rows at all.
    have = set(ClosedMonth.objects.filter(month__in=starts).values_list("month", flat=True))
    have |= set(
        MonthlySnapshot.objects.filter(month__in=starts).values_list("month", flat=True).distinct()
    )
    for p in months:
        if p.start not in have and p.end <= today:
            close_month(p, today=today)
    out: dict[dt.date, dict] = {s: {} for s in starts}
    for snap in MonthlySnapshot.objects.filter(month__in=starts).select_related("department"):
        out[snap.month][snap.department_id] = snap
    return out


def snapshot_figures(snap: MonthlySnapshot) -> Figures:
    return figures_from_dict(snap.figures)

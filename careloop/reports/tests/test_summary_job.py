"""R3: the daily job keeps the summaries — on the 1st it closes last month and generates its
summary (and, after a quarter's last month, the quarter's); it catches up on a later day after
downtime and never makes a second copy."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from careloop.reports.jobs import monthly_summaries
from careloop.reports.models import MonthlySnapshot, Summary
from careloop.reports.tests.summary_month import build_october

pytestmark = pytest.mark.django_db

TZ = dt.timezone(dt.timedelta(hours=8))


def moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.fixture
def data(org, personas):
    with time_machine.travel(moment("2026-09-01 08:00"), tick=False):
        build_october(org, personas["agent"])


def kept() -> list[tuple[str, str]]:
    return sorted(Summary.objects.values_list("kind", "period_key"))


def test_on_the_first_of_november_october_is_made_once_R3(data):
    with time_machine.travel(moment("2026-11-01 02:30"), tick=False):
        assert monthly_summaries() == {"generated": ["2026-10"]}
    assert kept() == [("month", "2026-10")]
    summary = Summary.objects.get()
    assert summary.generated_by is None and summary.data["figures"]["completed"] == 3
    assert summary.pdf and summary.xlsx
    assert MonthlySnapshot.objects.filter(month=dt.date(2026, 10, 1)).count() == 2
    first_at = summary.generated_at

    with time_machine.travel(moment("2026-11-01 14:30"), tick=False):
        assert monthly_summaries() == {"generated": []}
    with time_machine.travel(moment("2026-11-02 02:30"), tick=False):
        assert monthly_summaries() == {"generated": []}
    assert kept() == [("month", "2026-10")]
    assert Summary.objects.get().generated_at == first_at


def test_on_the_first_of_october_the_third_quarter_is_made_too_R3(data):
    with time_machine.travel(moment("2026-10-01 02:30"), tick=False):
        assert monthly_summaries() == {"generated": ["2026-09", "2026-Q3"]}
        assert monthly_summaries() == {"generated": []}
    assert kept() == [("month", "2026-09"), ("quarter", "2026-Q3")]
    q3 = Summary.objects.get(kind="quarter")
    assert (q3.period_start, q3.period_end) == (dt.date(2026, 7, 1), dt.date(2026, 10, 1))
    assert q3.data["figures"]["completed"] == 2  # August and September


def test_after_downtime_the_job_catches_up_later_in_the_month_R3(data):
    with time_machine.travel(moment("2026-11-05 02:30"), tick=False):
        assert monthly_summaries() == {"generated": ["2026-10"]}
    assert kept() == [("month", "2026-10")]


def test_a_summary_regenerated_by_hand_is_left_alone_by_the_job_R3(data, personas):
    from careloop.reports import periods
    from careloop.reports.summary import generate

    with time_machine.travel(moment("2026-11-01 00:10"), tick=False):
        generate(periods.month(2026, 10), "month", by=personas["medical_affairs"])
    with time_machine.travel(moment("2026-11-01 02:30"), tick=False):
        assert monthly_summaries() == {"generated": []}
    assert Summary.objects.get().generated_by == personas["medical_affairs"]


def test_the_job_can_be_registered_R3():
    from datetime import time

    from careloop.jobs.registry import JobSpec

    spec = JobSpec(
        "reports-monthly", "careloop.reports.jobs.monthly_summaries", daily_at=time(2, 30)
    )
    assert spec.func is monthly_summaries


@pytest.mark.django_db
def test_a_server_down_for_two_months_catches_up_both_R3():
    """After the September summary, nothing ran until 2026-12-02: October and November are both
    generated (and nothing before September again)."""
    from careloop.reports import periods

    with time_machine.travel(moment("2026-10-01 03:00"), tick=False):
        assert monthly_summaries()["generated"] == ["2026-09", "2026-Q3"]
    with time_machine.travel(moment("2026-12-02 03:00"), tick=False):
        assert monthly_summaries()["generated"] == ["2026-10", "2026-11"]
    assert sorted(Summary.objects.values_list("period_key", flat=True)) == [
        "2026-09", "2026-10", "2026-11", "2026-Q3"
    ]  # fmt: skip
    assert periods.last_month(dt.date(2026, 12, 2)).key == "2026-11"
